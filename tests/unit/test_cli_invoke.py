"""`sluice invoke`: function names (wiring or deployed) and the HTTP request a predict event carries."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from sluice.cli.invoke_command import (
    InvokeError,
    event_document,
    exit_code,
    http_request,
    log_lines,
    model_in_path,
    resolve_function,
)
from sluice.naming import ResourceNames
from tests.conftest import load_event

NAMES = ResourceNames("sluice")
MODELS = ("breast-cancer", "diabetes")


@pytest.mark.parametrize(("name", "expected"), [
    ("validate_dataset", ("validate_dataset", None)),
    ("validate-dataset", ("validate_dataset", None)),
    ("sluice-validate-dataset", ("validate_dataset", None)),
    ("predict", ("predict", None)),
    ("sluice-predict-diabetes", ("predict", "diabetes")),
])
def test_wiring_and_deployed_function_names(name: str, expected: tuple[str, str | None]) -> None:
    assert resolve_function(name, NAMES, MODELS) == expected


def test_an_unknown_function_lists_the_known_names() -> None:
    with pytest.raises(InvokeError, match="sluice-predict-breast-cancer") as raised:
        resolve_function("sluice-predict-nope", NAMES, MODELS)
    assert "sluice-train-model" in str(raised.value)


@pytest.mark.parametrize("sample", ["predict_function_url.json", "predict_api_gateway_rest.json",
                                    "predict_http_api.json"])
def test_every_http_event_shape_asks_the_models_predict_path(sample: str) -> None:
    # GIVEN a Function URL, REST API (stage "prod") or HTTP API (stage in rawPath) event
    request = http_request(load_event(sample))
    # THEN the stage is not part of the path, and the body is the instances sent
    assert (request.method, request.path) == ("POST", "/v1/models/breast-cancer:predict")
    assert model_in_path(request.path) == "breast-cancer"
    assert len(json.loads(request.body)["instances"]) == 1


def test_a_base64_body_is_decoded() -> None:
    event = load_event("predict_function_url.json")
    event.update(body=base64.b64encode(event["body"].encode()).decode(), isBase64Encoded=True)
    assert json.loads(http_request(event).body)["instances"][0]["mean_radius"] == 17.99


def test_a_trigger_event_is_not_an_http_event() -> None:
    with pytest.raises(InvokeError, match="not an HTTP event"):
        http_request(load_event("s3_object_created.json"))


def test_log_lines_keep_the_handlers_records_only() -> None:
    output = "\n".join([json.dumps({"level": "INFO", "message": "validate finished", "service": "sluice"}),
                        json.dumps({"_aws": {"CloudWatchMetrics": []}}), "plain text"])
    assert log_lines(output) == ["INFO validate finished"]


@pytest.mark.parametrize(("function", "result", "code"), [
    ("train_model", {"outcome": "trained"}, 0),
    ("train_model", {"outcome": "error", "error": "no input naming the model"}, 1),
    ("train_model", {"outcome": "ignored", "reason": "nightly is not a sluice retrain schedule"}, 3),
    ("validate_dataset", {"batchItemFailures": []}, 0),
    ("validate_dataset", {"batchItemFailures": [{"itemIdentifier": "m1"}]}, 1),
    ("validate_dataset", {"outcome": "batch", "results": [{"outcome": "ignored"}, {"outcome": "accepted"}]}, 0),
    ("predict", {"status": 200, "body": {}}, 0),
    ("predict", {"status": 503, "body": {}}, 1),
])
def test_the_exit_status_says_whether_the_event_was_acted_on(function: str, result: dict[str, Any],
                                                             code: int) -> None:
    assert exit_code(function, result) == code


def test_an_event_file_that_is_not_json_is_named_as_such(tmp_path: Path) -> None:
    # GIVEN event files that are not JSON, or not UTF-8 WHEN read THEN the error names the file and says so
    for name, content in (("truncated.json", b'{"Records": ['), ("latin1.json", b'{"key": "caf\xe9"}')):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(InvokeError, match=f"{name} is not JSON"):
            event_document(tmp_path / name)
    (tmp_path / "good.json").write_text('{"detail-type": "Scheduled Event"}')
    assert event_document(tmp_path / "good.json") == {"detail-type": "Scheduled Event"}
