"""The predict handler bounds a request before parsing it, refuses what the contract cannot hold, never raises.

Each hostile request of issue 14 that made the function fail (a 502 on AWS, an error that rolls back) is pinned
here with the 400 it gets now; an unexpected failure is answered 500 with its request id and counted.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from sluice.deployment import signals
from sluice.endpoint import PinnedModel
from sluice.predict import bounds
from sluice.predict.faults import fault_reporter
from sluice.serving import InvalidInstances, OnnxModel
from tests.unit.predict_models import MODEL, answer, event, service, train

GOOD = {"age": 12.5, "rooms": 3, "city": "paris", "furnished": True}


@pytest.fixture(scope="module")
def regressor() -> OnnxModel:
    return train("regression")


@pytest.fixture(scope="module")
def classifier() -> OnnxModel:
    return train("classification")


def _instances(text: str) -> bytes:
    return ('{"instances": [' + text + "]}").encode()


@pytest.mark.parametrize(("body", "message"), [
    (b"[" * 1000 + b"]" * 1000, "nested more than 32 levels"),
    (_instances('{"age": ' + "9" * 4301 + ', "rooms": 3, "city": "paris", "furnished": true}'),
     "longer than 64 characters"),
    (_instances('{"age": 1e400, "rooms": 3, "city": "paris", "furnished": true}'),
     "instance 0, field 'age': inf is beyond the range"),
    (_instances('{"age": 1, "rooms": 3, "city": "paris", "furnished": true}, '
                '{"age": 1, "rooms": 3, "city": "\\ud800", "furnished": true}'),
     "instance 1, field 'city': the text is not valid Unicode"),
    (_instances('{"age": NaN, "rooms": 3, "city": "paris", "furnished": true}'), "NaN is not a JSON number"),
    (_instances('{"age": -Infinity, "rooms": 3, "city": "paris", "furnished": true}'), "-Infinity is not"),
    (b"\xff\xfe{}", "not valid UTF-8"),
    (b"", "body is empty"),
])
def test_hostile_bodies_are_the_callers_error(regressor: OnnxModel, body: bytes, message: str) -> None:
    # GIVEN a body that used to raise inside the function (RecursionError, int limit, inf, lone surrogate)
    # WHEN it is posted to the endpoint
    status, document = answer(service(regressor).handle(event(body)))
    # THEN a 400 says what is wrong and where
    assert status == 400 and message in document["error"]


@pytest.mark.parametrize("value", [1e36, 3.0e38, -3.0e38])
def test_features_so_large_the_output_is_not_finite_are_refused(regressor: OnnxModel, value: float) -> None:
    # GIVEN a feature value within float32 range whose prediction overflows (the ridge multiplies it)
    instances = [GOOD, {**GOOD, "age": value, "rooms": value}]
    # WHEN it is predicted
    status, document = answer(service(regressor).handle(event(json.dumps({"instances": instances}).encode())))
    # THEN the caller learns which instance cannot be scored (not a 5xx from a response holding inf)
    assert status == 400 and "instance 1: the model's prediction is not a finite number" in document["error"]


def test_an_output_overflow_names_the_instance() -> None:
    # GIVEN a model whose output is infinite for the second instance
    import numpy as np

    from sluice.serving.model import check_finite

    # WHEN its outputs are checked / THEN InvalidInstances names instance 1
    with pytest.raises(InvalidInstances, match="instance 1: the model's prediction is not a finite number"):
        check_finite(np.array([[1.0], [np.inf]]), "prediction")


@pytest.mark.timeout(120)  # a hang guard, as the hostile corpus has: a rescanning scan takes hours on these
@pytest.mark.parametrize("body", [
    b'"\\' * 100_000,  # unterminated strings of escapes: a failing string match retried at every quote
    b'"' + b'\\"' * 100_000 + b"\\",
    b"[]" * 1_000_000 + b"[" * 33,
])
def test_the_scan_before_parsing_is_linear_on_pathological_bodies(body: bytes) -> None:
    # GIVEN bodies built to make a backtracking scan rescan the text at every quote
    # WHEN bounded / THEN refused as the caller's error
    with pytest.raises(bounds.RequestRefused) as refused:
        bounds.load_bounded_json(body)
    assert refused.value.status == 400


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    # GIVEN a string value holding 5,000 brackets / WHEN bounded / THEN parsed as the string it is
    document = bounds.load_bounded_json(json.dumps({"instances": [{"city": "[{" * 5000}]}).encode())
    assert document["instances"][0]["city"] == "[{" * 5000


def test_too_many_instances_are_counted_before_any_conversion(regressor: OnnxModel) -> None:
    # GIVEN 10,001 empty instances (each would be refused later, one by one)
    body = _instances(",".join(["{}"] * (bounds.MAX_INSTANCES + 1)))
    # WHEN posted / THEN the count is what is refused
    status, document = answer(service(regressor).handle(event(body)))
    assert status == 400 and "too many instances: 10001" in document["error"]


def test_an_oversized_body_is_refused_before_decoding(regressor: OnnxModel) -> None:
    # GIVEN a base64 body larger than the Function URL limit
    raw = base64.b64encode(b" " * (bounds.MAX_BODY_BYTES + 1)).decode()
    # WHEN posted / THEN 413
    status, _ = answer(service(regressor).handle(event(raw, encoded=True)))
    assert status == 413


@pytest.mark.parametrize("weird", [None, 7, [], "text", {"requestContext": "x", "rawPath": 3},
                                   {"rawPath": "/v1/models/rentals:predict", "requestContext": {"http": {"method": 5}}},
                                   {**event(b"{}"), "body": 12}, {**event(b"{}"), "body": ["a"]},
                                   {**event(b"{}"), "headers": ["x"]}, {**event(b"{}"), "body": "\ud800"}])
def test_events_of_the_wrong_shape_get_a_400(regressor: OnnxModel, weird: Any) -> None:
    # GIVEN an event that is not an HTTP request of payload 1.0/2.0 / WHEN handled / THEN a 4xx, not an exception
    status, _ = answer(service(regressor).handle(weird))
    assert 400 <= status < 500


def test_a_valid_surrogate_pair_is_an_ordinary_string(classifier: OnnxModel) -> None:
    # GIVEN an emoji written as an escaped surrogate pair (valid JSON and valid Unicode)
    body = _instances('{"age": 3, "rooms": 2, "city": "\\ud83d\\ude00", "furnished": false}')
    # WHEN predicted / THEN it is an unseen category, answered 200
    status, document = answer(service(classifier).handle(event(body)))
    assert status == 200 and len(document["probabilities"]) == 1


class Exploding:
    """A served model whose predict fails unexpectedly (a bug, not the caller's error)."""

    def __init__(self, model: OnnxModel) -> None:
        self.signature = model.signature

    def predict(self, instances: list[dict[str, Any]]) -> Any:
        raise RuntimeError("onnxruntime fell over")


def test_an_unexpected_failure_is_answered_500_with_the_request_id_and_counted(regressor: OnnxModel) -> None:
    # GIVEN a model that fails, and a fault reporter that logs and emits per-version metrics
    emitted: list[tuple[dict[str, str], dict[str, list[float]]]] = []
    logged: list[dict[str, Any]] = []
    reporter = fault_reporter(MODEL, PinnedModel(MODEL, 1, "0" * 64),
                              lambda message, fields, error: logged.append(fields),
                              emit=lambda _, dimensions, values: emitted.append((dimensions, values)))
    endpoint = service(Exploding(regressor), on_fault=reporter)
    # WHEN a valid request arrives with the caller's request id
    response = endpoint.handle(event(json.dumps({"instances": [GOOD]}).encode(), headers={"X-Request-Id": "abc-1"}))
    # THEN it is answered 500 as a response, with the id, logged with the id and counted as a server fault
    status, document = answer(response)
    assert status == 500 and document["request_id"] == "abc-1" and "RuntimeError" in document["error"]
    assert logged[0]["request_id"] == "abc-1" and "onnxruntime fell over" in logged[0]["error"]
    assert emitted == [(signals.version_dimensions(MODEL, 1), {signals.SERVER_FAULTS: [1.0]}),
                       (signals.model_dimensions(MODEL), {signals.SERVER_FAULTS: [1.0]})]


def test_client_errors_are_never_counted_as_faults(regressor: OnnxModel) -> None:
    # GIVEN the endpoint with a fault reporter that records every call
    faults: list[str] = []
    endpoint = service(regressor, on_fault=lambda request_id, error: faults.append(request_id))
    # WHEN bad requests arrive
    for body in (b"[" * 100, b"{}", _instances("{}"), b'{"instances": [1e999]}'):
        assert 400 <= answer(endpoint.handle(event(body)))[0] < 500
    # THEN none is a fault
    assert faults == []


def test_a_failing_fault_reporter_still_answers_500(regressor: OnnxModel) -> None:
    # GIVEN a reporter that itself fails
    def broken(request_id: str, error: BaseException) -> None:
        raise OSError("log pipe closed")

    # WHEN the model fails too / THEN the caller still gets a 500 answer, not an exception
    status, _ = answer(service(Exploding(regressor), on_fault=broken).handle(
        event(json.dumps({"instances": [GOOD]}).encode())))
    assert status == 500


def test_an_unwritable_request_id_is_replaced(regressor: OnnxModel) -> None:
    # GIVEN an X-Request-Id holding a lone surrogate and spaces
    response = service(regressor).handle(event(json.dumps({"instances": [GOOD]}).encode(),
                                               headers={"x-request-id": "a b\ud800"}))
    # WHEN answered / THEN 200 with the event's own request id instead
    status, document = answer(response)
    assert status == 200 and document["request_id"] == "req-1"
