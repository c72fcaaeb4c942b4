"""Every FunctionSpec becomes functions packaged as declared: images for heavy ML, zip + layers otherwise."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

import infra.app
from sluice.config import ProjectConfig, load_config
from sluice.naming import ResourceNames
from sluice.wiring import FUNCTIONS, Packaging, packaging_for
from tests.infra.conftest import REPO, Synth, sluice_functions, synthesize

NAMES = ResourceNames("sluice-dev")
CONFIG = load_config(REPO / "sluice.toml")
MODELS = sorted(CONFIG.models)


def expected_packaging(name: str, props: dict[str, Any]) -> Packaging:
    """What the project's config asks for this function (a model's predict follows its endpoint_package)."""
    model = props["Environment"]["Variables"].get("SLUICE_MODEL")
    endpoint = None if model is None else CONFIG.model(model).deployment.endpoint_package
    return packaging_for(FUNCTIONS[name], endpoint)


def _by_service(synth: Synth) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for props in sluice_functions(synth).values():
        grouped.setdefault(props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"], []).append(props)
    return grouped


def test_one_function_per_spec_and_one_predict_function_per_model(synth: Synth) -> None:
    grouped = _by_service(synth)
    assert set(grouped) == set(FUNCTIONS)
    for name, spec in FUNCTIONS.items():
        assert len(grouped[name]) == (len(MODELS) if spec.per_model else 1)
        for props in grouped[name]:
            assert props["MemorySize"] == spec.memory_mb
            assert props["Timeout"] == spec.timeout_s


def test_predict_functions_are_named_per_model_zip_with_layers_unless_configured_as_the_image(synth: Synth) -> None:
    predict = {props["FunctionName"]: props for props in _by_service(synth)["predict"]}
    assert set(predict) == {NAMES.predict_function(model) for model in MODELS}
    for model in MODELS:
        props = predict[NAMES.predict_function(model)]
        if CONFIG.model(model).deployment.endpoint_package == "image":
            continue  # checked with the image functions below
        assert props.get("PackageType", "Zip") == "Zip"
        assert "ImageUri" not in props["Code"]
        assert props["Runtime"] == "python3.12"
        assert props["Handler"] == "app.lambda_handler"
        assert len(props["Layers"]) == 2
        assert props["Environment"]["Variables"]["SLUICE_MODEL"] == model


def test_a_model_may_ship_its_endpoint_as_the_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN diabetes configured with endpoint_package = "image" (to serve a scikit-learn fallback)
    def with_image_endpoint(path: Path) -> ProjectConfig:
        config = load_config(path)
        model = config.model("diabetes")
        image = dataclasses.replace(model, deployment=dataclasses.replace(model.deployment, endpoint_package="image"))
        return dataclasses.replace(config, models={**config.models, "diabetes": image})

    monkeypatch.setattr(infra.app, "load_config", with_image_endpoint)
    # WHEN synthesized
    predict = {props["FunctionName"]: props for props in _by_service(synthesize(tmp_path))["predict"]}
    # THEN its predict function is the ML image with the predict handler; the other model keeps the zip
    image = predict[NAMES.predict_function("diabetes")]
    assert image["PackageType"] == "Image" and image["ImageConfig"]["Command"] == ["predict.app.lambda_handler"]
    assert predict[NAMES.predict_function("breast-cancer")]["Handler"] == "app.lambda_handler"


def test_image_functions_use_the_image_with_their_own_handler(synth: Synth) -> None:
    grouped = _by_service(synth)
    images = set()
    for name in FUNCTIONS:
        for props in grouped[name]:
            if expected_packaging(name, props) is Packaging.IMAGE:
                assert props["PackageType"] == "Image"
                assert props["ImageConfig"]["Command"] == [f"{name}.app.lambda_handler"]
                assert "Layers" not in props and "Runtime" not in props
                images.add(str(props["Code"]["ImageUri"]))
            else:
                assert props.get("PackageType", "Zip") == "Zip"
                assert props["Handler"] == "app.lambda_handler"
    assert len(images) == 1  # one image serves every heavy function


def test_every_function_gets_settings_config_observability_and_limits(synth: Synth) -> None:
    log_groups = synth.of_type("AWS::Logs::LogGroup")
    for props in sluice_functions(synth).values():
        variables = props["Environment"]["Variables"]
        assert variables["SLUICE_PREFIX"] == "sluice-dev"
        for key in ("SLUICE_DATA_BUCKET", "SLUICE_ARTIFACT_BUCKET", "SLUICE_REGISTRY_TABLE",
                    "SLUICE_IDEMPOTENCY_TABLE", "SLUICE_EVENT_BUS", "SLUICE_CODE_VERSION"):
            assert variables[key], key
        assert variables["SLUICE_CONFIG"] == "/opt/sluice.toml"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "sluice"
        assert variables["OMP_NUM_THREADS"] == "1"
        if variables["POWERTOOLS_SERVICE_NAME"] == "predict":  # predictions are traced only on opt-in
            assert props.get("TracingConfig", {"Mode": "PassThrough"}) == {"Mode": "PassThrough"}
            assert variables["POWERTOOLS_TRACE_DISABLED"] == "true"
        else:
            assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Architectures"] == ["x86_64"]
        log_group = log_groups[props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
        assert log_group["LogGroupName"] == f"/aws/lambda/{props['FunctionName']}"
        assert log_group["RetentionInDays"] > 0

