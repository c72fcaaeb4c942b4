"""Reproducible deploys: the layer and the image install hashed pins that satisfy pyproject.toml; CDK is pinned."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from infra.locks import IMAGE_LOCK, RUNTIME_PROVIDED, SERVING_LOCK, Pin, canonical, read_lock, requirements
from tests.infra.conftest import REPO

PYPROJECT = REPO / "pyproject.toml"
SERVING_DEPS = REPO / "build" / "layers" / "serving-deps" / "python"


def _by_name(pins: list[Pin]) -> dict[str, Pin]:
    return {pin.name: pin for pin in pins}


@pytest.mark.parametrize(("lock", "extras"), [(SERVING_LOCK, ()), (IMAGE_LOCK, ("ml",))])
def test_every_lock_pins_each_distribution_once_with_its_sha256(lock: Path, extras: tuple[str, ...]) -> None:
    # GIVEN a lock file
    pins = read_lock(lock)
    # THEN every distribution is pinned to one version with one sha256, once
    assert pins and len(_by_name(pins)) == len(pins)
    for pin in pins:
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", pin.version), pin
        assert re.fullmatch(r"[0-9a-f]{64}", pin.sha256), pin
    # AND the pins satisfy what pyproject.toml asks of the project's dependencies (and extras)
    pinned = _by_name(pins)
    for spec in requirements(PYPROJECT, extras=extras):
        requirement = Requirement(spec)
        name = canonical(requirement.name)
        if lock == SERVING_LOCK and name in RUNTIME_PROVIDED:
            continue  # the Lambda runtime provides boto3
        assert name in pinned, f"{spec} is not locked in {lock}: run `make locks`"
        assert requirement.specifier.contains(pinned[name].version, prereleases=True), (spec, pinned[name])


def test_the_serving_layer_holds_exactly_the_locked_distributions() -> None:
    # GIVEN the layer `make layers` built from the lock
    if not SERVING_DEPS.is_dir():
        pytest.fail(f"{SERVING_DEPS} is missing: run `make layers` (make test does)")
    installed = {}
    for info in SERVING_DEPS.glob("*.dist-info"):
        name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
        installed[canonical(name)] = version
    # THEN it holds every locked distribution at its locked version, but those the Lambda runtime provides
    locked = {pin.name: pin.version for pin in read_lock(SERVING_LOCK) if pin.name not in RUNTIME_PROVIDED}
    assert installed == locked


def test_builds_install_from_the_locks_with_hashes_required() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "--require-hashes -r $(SERVING_LOCK)" in makefile and "--require-hashes -r $(IMAGE_LOCK)" in makefile
    assert f"SERVING_LOCK := {SERVING_LOCK.relative_to(REPO)}" in makefile
    assert f"IMAGE_LOCK := {IMAGE_LOCK.relative_to(REPO)}" in makefile
    dockerfile = (REPO / "functions" / "Dockerfile").read_text()
    assert f"COPY {IMAGE_LOCK.relative_to(REPO)} " in dockerfile and "--require-hashes" in dockerfile


def test_the_cdk_library_is_pinned_to_the_version_the_tests_run() -> None:
    infra = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["infra"]
    pins = {canonical(Requirement(spec).name): Requirement(spec) for spec in infra}
    for name in ("aws-cdk-lib", "constructs"):
        (specifier,) = pins[name].specifier
        assert specifier.operator == "==", pins[name]
        assert specifier.version == importlib.metadata.version(name)
