"""Package inputs: the staged sluice layer, the serving-deps check, the image's Dockerfile and context."""

from __future__ import annotations

import importlib.util
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.assets import (
    LAMBDA_PYTHON_ENV,
    BuildInputs,
    PackagingError,
    check_unzipped_limit,
    incompatible_wheels,
    stage_sluice_layer,
)
from infra.components.functions import PYTHON_VERSION
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


def test_the_layer_ships_bytecode_that_the_runtime_imports_without_compiling(tmp_path: Path) -> None:
    # GIVEN the layer staged with bytecode for the running Python (synth does it for the Lambda runtime's)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    inputs = BuildInputs(staging_dir=tmp_path, bytecode_python=sys.executable)
    layer = stage_sluice_layer(inputs, python_version=version) / "python"
    # THEN every module has its bytecode, and the sources-only staging is a different folder
    sources = sorted(layer.rglob("*.py"))
    assert sources and all(Path(importlib.util.cache_from_source(str(path))).is_file() for path in sources)
    assert stage_sluice_layer(inputs) != layer.parent
    # AND a fresh interpreter, on a read-only file system as on Lambda, imports the bytecode as shipped: with a
    # source replaced by code that fails, the import still succeeds (unchecked-hash .pyc: no timestamp check)
    (layer / "sluice" / "settings.py").write_text("raise SystemExit('compiled from source')\n")
    probe = "import sluice.settings, sys; print(sluice.settings.__file__)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(layer), "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stderr
    # AND tracebacks name the file where Lambda unpacks the layer
    code = marshal.loads(Path(importlib.util.cache_from_source(str(layer / "sluice" / "lazy.py"))).read_bytes()[16:])
    assert code.co_filename == "/opt/python/sluice/lazy.py"


def test_a_configured_interpreter_of_another_python_is_refused(tmp_path: Path) -> None:
    # GIVEN an interpreter configured for bytecode that is not the runtime's Python
    inputs = BuildInputs(staging_dir=tmp_path, bytecode_python=sys.executable)
    # WHEN the layer is staged THEN synth stops and says why, leaving nothing half-staged
    with pytest.raises(PackagingError, match="would be ignored"):
        stage_sluice_layer(inputs, python_version="3.99")
    with pytest.raises(PackagingError, match="cannot run"):
        stage_sluice_layer(BuildInputs(staging_dir=tmp_path, bytecode_python=str(tmp_path / "no-python")),
                           python_version="3.99")
    assert list(tmp_path.iterdir()) == []


def test_without_the_runtimes_python_the_layer_ships_sources_and_says_so(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN no interpreter configured and none named python3.99 on the PATH
    monkeypatch.delenv(LAMBDA_PYTHON_ENV, raising=False)
    # WHEN the layer is staged for that runtime THEN it holds sources only, and synth warns
    with pytest.warns(UserWarning, match="sources only"):
        layer = stage_sluice_layer(BuildInputs(staging_dir=tmp_path), python_version="3.99")
    assert layer == stage_sluice_layer(BuildInputs(staging_dir=tmp_path))
    assert not list(layer.rglob("*.pyc"))


def test_missing_serving_deps_layer_fails_synth_with_the_fix(tmp_path: Path) -> None:
    inputs = BuildInputs(serving_deps_dir=tmp_path / "serving-deps", staging_dir=tmp_path / "staging")
    with pytest.raises(PackagingError, match="make layers"):
        inputs.serving_deps(python_version="3.11")
    (tmp_path / "serving-deps" / "python").mkdir(parents=True)
    with pytest.raises(PackagingError, match="make layers"):  # built but empty
        inputs.serving_deps(python_version="3.11")


def _installed(site: Path, name: str, *tags: str) -> None:
    info = site / f"{name}.dist-info"
    info.mkdir(parents=True)
    (info / "WHEEL").write_text("Wheel-Version: 1.0\n" + "".join(f"Tag: {tag}\n" for tag in tags))


def test_serving_deps_must_run_on_the_lambda_runtime(tmp_path: Path) -> None:
    # GIVEN a layer built with wheels for glibc 2.17, 2.28 (onnxruntime >= 1.17) and pure Python
    site = tmp_path / "serving-deps" / "python"
    _installed(site, "numpy-2.2.6", "cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64")
    _installed(site, "onnxruntime-1.32.0", "cp311-cp311-manylinux_2_28_x86_64")
    _installed(site, "aws_lambda_powertools-3.37.0", "py3-none-any")
    _installed(site, "protobuf-7.36.2", "cp310-abi3-manylinux2014_x86_64")
    # THEN python3.11 (Amazon Linux 2, glibc 2.26) cannot load onnxruntime
    assert list(incompatible_wheels(site, "3.11")) == ["onnxruntime-1.32.0"]
    # and python3.12 (AL2023, glibc 2.34) cannot load cp311 extension modules at all (abi3 is fine)
    assert list(incompatible_wheels(site, "3.12")) == ["numpy-2.2.6", "onnxruntime-1.32.0"]
    inputs = BuildInputs(serving_deps_dir=tmp_path / "serving-deps")
    with pytest.raises(PackagingError, match=r"onnxruntime-1\.32\.0.*make layers"):
        inputs.serving_deps(python_version="3.11")


def test_other_platforms_are_refused(tmp_path: Path) -> None:
    site = tmp_path / "python"
    _installed(site, "a-1", "cp311-cp311-manylinux_2_17_aarch64")
    _installed(site, "b-1", "cp311-cp311-linux_x86_64")
    _installed(site, "c-1", "cp311-cp311-musllinux_1_2_x86_64")
    _installed(site, "d-1", "cp311-cp311-macosx_11_0_arm64")
    assert list(incompatible_wheels(site, "3.11")) == ["a-1", "b-1", "c-1", "d-1"]


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
    assert f"ARG PYTHON_VERSION={PYTHON_VERSION}\n" in dockerfile
    assert "FROM --platform=linux/amd64 public.ecr.aws/lambda/python:${PYTHON_VERSION}" in dockerfile
    assert "COPY requirements/image.lock.txt /tmp/image.lock.txt" in dockerfile  # the hashed lock (test_locks.py)
    assert "pip install --no-cache-dir --require-hashes -r /tmp/image.lock.txt" in dockerfile
    assert "COPY layers/sluice/python/sluice ${LAMBDA_TASK_ROOT}/sluice" in dockerfile
    assert "COPY functions/ ${LAMBDA_TASK_ROOT}/" in dockerfile
    assert "COPY sluice.toml /opt/sluice.toml" in dockerfile
    assert "OMP_NUM_THREADS=1" in dockerfile


def test_image_context_sends_only_what_the_image_needs() -> None:
    ignore = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert ignore[0] == "*"  # an allowlist
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert allowed == {"requirements/image.lock.txt", "sluice.toml", "functions", "layers/sluice/python/sluice"}


def test_zip_functions_must_fit_the_unzipped_limit() -> None:
    check_unzipped_limit("fn", {"handler": 10, "layer": 240 * 2**20})
    with pytest.raises(PackagingError, match="over Lambda's 250 MiB"):
        check_unzipped_limit("fn", {"handler": 10, "layer": 250 * 2**20})
