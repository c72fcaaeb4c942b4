"""On the local stack: every evaluated version gets a model card, `sluice models show` prints it, and a model
whose ONNX export disagrees is served by its sha256-verified scikit-learn pipeline where its endpoint can load one
(the ML image), or rejected by the gate with the reason where it cannot (the zip endpoint serves ONNX only)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

import sluice.steps.trained as train_step
from sluice.artifacts import CARD_HTML_FILE, CARD_JSON_FILE, PIPELINE_FILE, TRAINING_FILE, load_verified_model
from sluice.cli import app
from sluice.demo import samples
from sluice.registry import DynamoDBRegistry
from sluice.serving import IntegrityError, OnnxModel
from sluice.storage import ObjectStore, model_artifact_key
from sluice.training import ExportError

pytestmark = pytest.mark.slow
MODEL = "diabetes"


def _store(cloud: Any) -> ObjectStore:
    return ObjectStore(cloud.clients.s3, cloud.settings.artifact_bucket)


def test_an_evaluated_version_has_a_card_that_the_cli_shows(cloud: Any, tmp_path, monkeypatch) -> None:
    # GIVEN the diabetes data trained, evaluated and deployed on the local stack
    cloud.drop(samples.DIABETES, MODEL)
    cloud.run_until_idle()
    store = _store(cloud)
    version = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table).get_version(MODEL, 1)
    # THEN the training summary records every trial of the configured budget and the pipeline's sha256
    training = store.get_json(model_artifact_key(MODEL, 1, TRAINING_FILE))
    assert len(training["trials"]) == cloud.config.model(MODEL).training.tuning.trials
    assert training["serving"] == "onnx" and version.serving == "onnx"
    assert len(version.pipeline_sha256) == 64 and version.pipeline_sha256 == training["pipeline_sha256"]
    # AND the card (JSON and HTML) is written next to the model
    card = store.get_json(model_artifact_key(MODEL, 1, CARD_JSON_FILE))
    assert card["gate"]["approved"] and card["data"]["data_version"] == version.data_version
    assert "<img class='plot'" in store.get_bytes(model_artifact_key(MODEL, 1, CARD_HTML_FILE)).decode()
    # WHEN a user asks the CLI for it (as JSON, and as text with the HTML saved and opened)
    monkeypatch.chdir(tmp_path)
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    shown = CliRunner().invoke(app, ["models", "show", MODEL, "--json"])
    text = CliRunner().invoke(app, ["models", "show", MODEL, "1", "--open"])
    listing = CliRunner().invoke(app, ["models", MODEL, "--json"])
    # THEN it prints the card, saves the HTML locally and opens it; the listing still works beside it
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.output)
    assert document["version"] == 1 and document["status"] == "live" and document["live"] is True
    assert text.exit_code == 0 and "gate approved" in text.output and "holdout metrics" in text.output
    assert opened and (tmp_path / ".sluice" / "cards" / "diabetes-v1.html").is_file()
    assert listing.exit_code == 0 and json.loads(listing.output)[MODEL]["live"] == 1
    missing = CliRunner().invoke(app, ["models", "show", MODEL, "9"])
    assert missing.exit_code == 2 and "no version 9" in missing.output


def _disagreeing_export(monkeypatch: pytest.MonkeyPatch) -> None:
    def disagree(*_: Any, **__: Any) -> Any:
        raise ExportError("the ridge ONNX export disagrees with scikit-learn")

    monkeypatch.setattr(train_step, "export_onnx", disagree)


def test_a_disagreeing_onnx_export_is_served_by_the_verified_pipeline_on_an_image_endpoint(
        stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an ONNX export that disagrees with scikit-learn, and diabetes' endpoint packaged as the ML image
    _disagreeing_export(monkeypatch)
    cloud = stack(diabetes={"endpoint_package": "image"})
    # WHEN the model is trained, evaluated and deployed
    cloud.drop(samples.DIABETES, MODEL)
    cloud.run_until_idle()
    registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
    version = registry.get_version(MODEL, 1)
    # THEN the scikit-learn pipeline is served, verified by the sha256 in the registry
    assert version.serving == "sklearn" and version.artifact_sha256 == version.pipeline_sha256
    assert version.status.value == "live"
    features, _ = samples.instances(samples.DIABETES, "progression", 3)
    response = cloud.predict(MODEL, features)
    assert response.status == 200 and len(response.body["predictions"]) == 3
    served = load_verified_model(_store(cloud), MODEL, 1, version.artifact_sha256)
    assert not isinstance(served, OnnxModel)
    # AND a pickle whose bytes do not match the registry is never loaded
    _store(cloud).put_bytes(model_artifact_key(MODEL, 1, PIPELINE_FILE), b"not the pipeline")
    with pytest.raises(IntegrityError):
        load_verified_model(_store(cloud), MODEL, 1, version.artifact_sha256)


def test_a_disagreeing_onnx_export_is_rejected_when_the_endpoint_serves_onnx_only(
        cloud: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an ONNX export that disagrees, and diabetes' endpoint as configured: the zip package (ONNX only)
    _disagreeing_export(monkeypatch)
    # WHEN the model is trained and evaluated
    cloud.drop(samples.DIABETES, MODEL)
    cloud.run_until_idle()
    # THEN the gate rejects the version, saying why and what to change; nothing is deployed
    version = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table).get_version(MODEL, 1)
    assert version.status.value == "rejected"
    assert any("serves only onnx" in reason and "endpoint_package" in reason for reason in version.gate_reasons)
    assert cloud.predict(MODEL, samples.instances(samples.DIABETES, "progression", 1)[0]).status == 503
