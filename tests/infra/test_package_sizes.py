"""Lambda limits, measured on real packages: every zip function with its layers, and the image's wheels.

The zip packages are built from the cloud assembly exactly as ``cdk deploy`` uploads them (the staged
asset folders, zipped), with the real serving dependency layer from ``make layers``. Recorded sizes:
infra/README.md ("Package sizes").
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from infra.app import build
from infra.assets import LAMBDA_UNZIPPED_LIMIT, BuildInputs, unfit_wheel_files
from infra.components.functions import PYTHON_VERSION
from sluice.config import load_config
from sluice.wiring import FUNCTIONS, Packaging, packaging_for
from tests.infra.conftest import REPO, cdk_context

SERVING_DEPS = REPO / "build" / "layers" / "serving-deps"
IMAGE_REQUIREMENTS = REPO / "build" / "layers" / "image-requirements.json"
ASSET_METADATA = "aws:cdk:enable-asset-metadata"
CONFIG = load_config(REPO / "sluice.toml")
ZIP_FUNCTIONS = {name for name, spec in FUNCTIONS.items()
                 if any(packaging_for(spec, model.deployment.endpoint_package if spec.per_model else None)
                        is Packaging.ZIP for model in CONFIG.models.values())}


@dataclass(frozen=True)
class ZipPackage:
    """One zip function as Lambda sees it: its code and its layers, each zipped."""

    function_name: str
    service: str
    parts: dict[str, tuple[int, int]]  # asset → (zipped bytes, unzipped bytes)

    @property
    def unzipped(self) -> int:
        return sum(unzipped for _, unzipped in self.parts.values())


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make layers` (make test does) before the package-size test")
    return path


def _zip(folder: Path, target: Path) -> tuple[int, int]:
    """Zip ``folder`` as the CDK does for a Lambda asset; (zipped, unzipped) bytes."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    with zipfile.ZipFile(target) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    return target.stat().st_size, unzipped


@pytest.fixture(scope="module")
def zip_packages(tmp_path_factory: pytest.TempPathFactory) -> list[ZipPackage]:
    """Synthesize with the real serving layer, then zip every asset a zip function deploys."""
    tmp = tmp_path_factory.mktemp("packages")
    outdir = tmp / "cdk.out"
    inputs = BuildInputs(serving_deps_dir=_require(SERVING_DEPS), staging_dir=tmp / "staging")
    app = App(outdir=str(outdir), context=cdk_context(**{ASSET_METADATA: True}))
    stack = build(app, inputs=inputs)
    assembly = app.synth()
    parent: dict[str, Any] = assembly.get_stack_by_name(stack.stack_name).template["Resources"]
    # the stage's stack and its model stacks, each with the parameters the stage's stack passes it
    templates: list[tuple[dict[str, Any], dict[str, Any]]] = [(parent, {})]
    for resource in parent.values():
        if resource["Type"] == "AWS::CloudFormation::Stack":
            nested = json.loads((outdir / resource["Metadata"]["aws:asset:path"]).read_text())["Resources"]
            templates.append((nested, resource["Properties"]["Parameters"]))
    zipped: dict[str, tuple[int, int]] = {}

    def measure(logical_id: str, resources: dict[str, Any]) -> tuple[str, tuple[int, int]]:
        asset = resources[logical_id]["Metadata"]["aws:asset:path"]
        if asset not in zipped:
            zipped[asset] = _zip(outdir / asset, tmp / f"{asset}.zip")
        return f"{logical_id} ({asset})", zipped[asset]

    def measure_layer(reference: str, parameters: dict[str, Any], resources: dict[str, Any]
                      ) -> tuple[str, tuple[int, int]]:
        if reference in parameters:  # a model stack's layer is the stage's, passed as a parameter
            return measure(parameters[reference]["Ref"], parent)
        return measure(reference, resources)

    packages = []
    for resources, parameters in templates:
        for logical_id, resource in resources.items():
            props = resource["Properties"]
            service = props.get("Environment", {}).get("Variables", {}).get("POWERTOOLS_SERVICE_NAME")
            if resource["Type"] != "AWS::Lambda::Function" or service is None or props.get("PackageType") == "Image":
                continue
            parts = dict([measure(logical_id, resources),
                          *(measure_layer(layer["Ref"], parameters, resources) for layer in props.get("Layers", []))])
            packages.append(ZipPackage(function_name=props["FunctionName"], service=service, parts=parts))
    return packages


def test_every_zip_function_with_its_layers_fits_lambdas_unzipped_limit(zip_packages: list[ZipPackage]) -> None:
    # GIVEN every zip function of the stack, built from the cloud assembly with the real layers
    assert {package.service for package in zip_packages} == ZIP_FUNCTIONS
    for package in zip_packages:
        # THEN code plus layers unzip to at most 250 MB (Lambda refuses the function otherwise)
        sizes = json.dumps({part: {"zipped_mib": round(z / 2**20, 1), "unzipped_mib": round(u / 2**20, 1)}
                            for part, (z, u) in package.parts.items()}, indent=1)
        assert package.unzipped <= LAMBDA_UNZIPPED_LIMIT, f"{package.function_name} is too large: {sizes}"
        assert len(package.parts) == 3, sizes  # handler, sluice layer, serving-deps layer


def test_zip_functions_carry_no_heavy_ml_libraries(zip_packages: list[ZipPackage]) -> None:
    # predict's cold start: the serving layer must not ship pandas, pyarrow, scipy or scikit-learn
    site = SERVING_DEPS / "python"
    shipped = {path.name.lower() for path in site.iterdir()}
    assert not shipped & {"pandas", "pyarrow", "scipy", "sklearn"}
    assert {"numpy", "onnxruntime", "aws_lambda_powertools"} <= shipped
    assert not [path for path in site.iterdir() if path.name in {"boto3", "botocore"}]  # the runtime provides them


def test_image_requirements_resolve_to_wheels_that_run_on_the_lambda_image() -> None:
    # GIVEN the image's requirements (requirements/image.lock.txt) resolved by `make layers` for manylinux x86_64 /
    # cp312
    report = json.loads(_require(IMAGE_REQUIREMENTS).read_text())
    installed = {item["metadata"]["name"].lower(): item for item in report["install"]}
    wheels = [item["download_info"]["url"].rsplit("/", 1)[-1] for item in installed.values()
              if item["download_info"]["url"].endswith(".whl")]
    # THEN the heavy stack is there, every dependency is a wheel, and each one runs on the image's platform
    assert {"scikit-learn", "pandas", "pyarrow", "onnxruntime", "skl2onnx"} <= set(installed)
    assert len(wheels) == len(set(installed) - {"sluice-mlops"})  # every dependency (the lock holds no project)
    assert list(unfit_wheel_files(wheels, PYTHON_VERSION)) == []


def test_wheel_file_names_are_checked_tag_by_tag() -> None:
    wheels = ["a-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
              "b-1-cp311-cp311-manylinux_2_17_x86_64.whl",
              "c-1-cp312-cp312-musllinux_1_2_x86_64.whl", "d-1-py2.py3-none-any.whl",
              "e-1-cp312-cp312-manylinux_2_39_x86_64.whl"]
    assert list(unfit_wheel_files(wheels, "3.12")) == wheels[1:3] + wheels[4:]
