"""Package inputs: the staged sluice layer, the serving-deps check, the image's Dockerfile and context."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.assets import BuildInputs, PackagingError, stage_sluice_layer
from tests.infra.conftest import REPO


def test_sluice_layer_holds_the_library_and_the_config_at_its_root(tmp_path: Path) -> None:
    # GIVEN the repository's library and configuration
    inputs = BuildInputs(staging_dir=tmp_path)
    # WHEN the layer is staged
    layer = stage_sluice_layer(inputs)
    # THEN python/sluice (minus demo/ and caches) and /opt/sluice.toml are in it
    assert (layer / "sluice.toml").read_bytes() == (REPO / "sluice.toml").read_bytes()
    assert (layer / "python" / "sluice" / "wiring" / "routes.py").is_file()
    assert not (layer / "python" / "sluice" / "demo").exists()
    assert not [p for p in layer.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]


def test_staging_is_deterministic_and_idempotent(tmp_path: Path) -> None:
    inputs = BuildInputs(staging_dir=tmp_path)
    first = stage_sluice_layer(inputs)
    second = stage_sluice_layer(inputs)
    assert first == second
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no scratch folders left behind


def test_missing_serving_deps_layer_fails_synth_with_the_fix(tmp_path: Path) -> None:
    inputs = BuildInputs(serving_deps_dir=tmp_path / "serving-deps", staging_dir=tmp_path / "staging")
    with pytest.raises(PackagingError, match="make layers"):
        inputs.serving_deps()
    (tmp_path / "serving-deps" / "python").mkdir(parents=True)
    with pytest.raises(PackagingError, match="make layers"):  # built but empty
        inputs.serving_deps()


def test_the_stack_refuses_to_synthesize_without_serving_deps(tmp_path: Path) -> None:
    from aws_cdk import App

    from infra.app import build
    from tests.infra.conftest import cdk_context

    app = App(outdir=str(tmp_path / "cdk.out"), context=cdk_context())
    inputs = BuildInputs(serving_deps_dir=tmp_path / "missing", staging_dir=tmp_path / "staging")
    with pytest.raises(PackagingError, match="run `make layers`"):
        build(app, inputs=inputs)


def test_dockerfile_builds_the_image_functions_as_the_architecture_says() -> None:
    dockerfile = (REPO / "functions" / "Dockerfile").read_text()
    assert "FROM --platform=linux/amd64 public.ecr.aws/lambda/python:3.11" in dockerfile
    assert '[ml]"' in dockerfile  # the project's own pins, extra ml
    assert "COPY layers/sluice/python/sluice ${LAMBDA_TASK_ROOT}/sluice" in dockerfile
    assert "COPY functions/ ${LAMBDA_TASK_ROOT}/" in dockerfile
    assert "COPY sluice.toml /opt/sluice.toml" in dockerfile
    assert "OMP_NUM_THREADS=1" in dockerfile


def test_image_context_sends_only_what_the_image_needs() -> None:
    ignore = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert ignore[0] == "*"  # an allowlist
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert allowed == {"pyproject.toml", "sluice.toml", "functions", "layers/sluice/python/sluice"}
