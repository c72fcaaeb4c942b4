"""The edge of every trigger function (sluice.handlers.TriggerEdge), without AWS: what is ignored, refused,
retried, and how an SQS batch reports only its retriable records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sluice.events.sources import OBJECT_CREATED, EventError, Malformed, ObjectCreated, Unrecognised
from sluice.handlers import TriggerEdge
from sluice.observability import metrics
from sluice.settings import Settings
from tests.conftest import load_event


class Context:
    aws_request_id = "request-1"
    function_name = "validate"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The metrics added while the test runs (idempotency off: no table here)."""
    monkeypatch.setenv("POWERTOOLS_IDEMPOTENCY_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    store: dict[str, Any] = metrics.provider.metric_set  # type: ignore[attr-defined]
    store.clear()
    yield store
    store.clear()


def _edge(action: Any) -> TriggerEdge:
    return TriggerEdge("validate", Settings.local(), {OBJECT_CREATED: action})


@pytest.mark.filterwarnings("ignore:Disabling idempotency")
def test_an_event_not_for_sluice_is_acknowledged_and_counted(counted: dict[str, Any]) -> None:
    result = _edge(lambda item: pytest.fail("must not act")).run(Unrecognised("aws.ec2 'Instance State-change'"))
    assert result == {"outcome": "ignored", "reason": "not for sluice: aws.ec2 'Instance State-change'"}
    assert set(counted) == {"validate_ignored"}


@pytest.mark.filterwarnings("ignore:Disabling idempotency")
def test_a_malformed_event_or_an_action_refusing_it_is_one_counted_line(counted: dict[str, Any]) -> None:
    def refuse(item: ObjectCreated) -> dict[str, Any]:
        raise EventError("the object\nnames no model")

    edge = _edge(refuse)
    assert edge.run(Malformed("DatasetAccepted x has no model")) == {
        "outcome": "error", "error": "DatasetAccepted x has no model"}
    created = ObjectCreated("sluice-data", "incoming/m/a.csv", "e", 1, "", "eventbridge")
    assert edge.run(created) == {"outcome": "error", "error": "the object names no model"}
    assert set(counted) == {"validate_error"}


@pytest.mark.filterwarnings("ignore:Disabling idempotency")
def test_a_failure_of_the_action_is_retriable_so_it_raises(counted: dict[str, Any]) -> None:
    def broken(item: ObjectCreated) -> dict[str, Any]:
        raise ConnectionError("S3 unreachable")

    with pytest.raises(ConnectionError):
        _edge(broken).handle(load_event("s3_notification.json"), Context())  # type: ignore[arg-type]


@pytest.mark.filterwarnings("ignore:Disabling idempotency")
def test_an_sqs_batch_reports_only_its_retriable_records(counted: dict[str, Any]) -> None:
    # GIVEN a batch: a drop the action fails on, a good drop, a body that is not JSON
    good = load_event("sqs_s3_notification.json")["Records"][0]
    failing = json.loads(json.dumps(good))
    body = json.loads(failing["body"])
    body["Records"][0]["s3"]["object"]["key"] = "incoming/breast-cancer/flaky.csv"
    failing.update(messageId="flaky", body=json.dumps(body))
    garbled = {**good, "messageId": "garbled", "body": "not json"}
    acted: list[str] = []

    def action(item: ObjectCreated) -> dict[str, Any]:
        if item.key.endswith("flaky.csv"):
            raise TimeoutError("read timed out")
        acted.append(item.key)
        return {"outcome": "accepted"}

    # WHEN the edge handles it
    result = _edge(action).handle({"Records": [failing, good, garbled]}, Context())  # type: ignore[arg-type]
    # THEN only the failing record is retried; the good one acted; the garbled one refused, not retried
    assert result == {"batchItemFailures": [{"itemIdentifier": "flaky"}]}
    assert acted == ["incoming/breast-cancer/breast cancer + notes.csv"]
    assert {"validate_accepted", "validate_error"} <= set(counted)
