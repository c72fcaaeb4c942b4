"""Buffered drops (``[stack] buffer_drops``): bucket → EventBridge → SQS → validate_dataset in batches with partial
batch failure; and events that are for sluice but malformed parked once, with the reason, in the function's
dead-letter queue, on the buffered path and on the direct (asynchronous invocation) path alike.

What is imitated: Lambda's SQS event source mapping with ReportBatchItemFailures (AWS Lambda Developer Guide,
"Handling errors for an SQS event source": reported items return to the queue, the rest are deleted; a message
received maxReceiveCount times moves to the queue's dead-letter queue) and Lambda's invocation records.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sluice.local.runtime import LocalCloud
from sluice.wiring.queues import BUFFERED_ROUTE
from tests.conftest import REPO, load_event

MODEL = "breast-cancer"


def _start(tmp_path: Path, *, buffered: bool) -> LocalCloud:
    text = (REPO / "sluice.toml").read_text()
    path = tmp_path / "sluice.toml"
    path.write_text(("[stack]\nbuffer_drops = true\n" if buffered else "") + text)
    return LocalCloud(path, functions_dir=REPO / "functions").start()


@pytest.fixture
def buffered(tmp_path: Path) -> Iterator[LocalCloud]:
    cloud = _start(tmp_path, buffered=True)
    yield cloud
    cloud.stop()


@pytest.fixture
def direct(tmp_path: Path) -> Iterator[LocalCloud]:
    cloud = _start(tmp_path, buffered=False)
    yield cloud
    cloud.stop()


def _parked(cloud: LocalCloud, function: str = "validate_dataset") -> list[dict[str, Any]]:
    url = cloud.provisioned.dead_letter_queues[function]
    messages = cloud.clients.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                 MessageAttributeNames=["All"]).get("Messages", [])
    return [{"record": json.loads(m["Body"]), "reason": m["MessageAttributes"]["reason"]["StringValue"]}
            for m in messages]


def _malformed_drop(cloud: LocalCloud) -> dict[str, Any]:
    """An S3 "Object Created" event for sluice's bucket that lost its object: for sluice, and unreadable."""
    event = copy.deepcopy(load_event("s3_object_created.json"))
    event["detail"]["bucket"]["name"] = cloud.settings.data_bucket
    del event["detail"]["object"]
    return event


def _bad_csv(tmp_path: Path) -> Path:
    path = tmp_path / "not_the_contract.csv"
    path.write_text("colour,weight\nred,1\nblue,2\n")
    return path


def _invocations(cloud: LocalCloud, function: str) -> list[dict[str, Any]]:
    return [entry.detail for entry in cloud.timeline if entry.kind == "invoke" and entry.name == function]


def test_a_buffered_drop_reaches_validation_as_an_sqs_batch(buffered: LocalCloud, tmp_path: Path) -> None:
    # GIVEN drops buffered through SQS / WHEN a file is dropped
    key = buffered.drop(_bad_csv(tmp_path), MODEL)
    buffered.run_until_idle()
    # THEN validate_dataset ran on an SQS batch, acknowledged every record, and judged exactly that object
    (run,) = _invocations(buffered, "validate_dataset")
    assert run["batchItemFailures"] == []
    (rejected,) = [entry.detail for entry in buffered.timeline if entry.name == "DatasetRejected"]
    assert rejected["source"] == f"s3://{buffered.settings.data_bucket}/{key}"
    # AND nothing waits in the buffer or was parked
    buffer = buffered.provisioned.route_queues[BUFFERED_ROUTE]
    assert buffered.clients.sqs.receive_message(QueueUrl=buffer).get("Messages", []) == []
    assert _parked(buffered) == []


def test_a_malformed_record_in_a_batch_is_parked_once_and_the_rest_of_the_batch_proceeds(
        buffered: LocalCloud, tmp_path: Path) -> None:
    # GIVEN a malformed event waiting in the buffer beside a real drop
    buffer = buffered.provisioned.route_queues[BUFFERED_ROUTE]
    buffered.clients.sqs.send_message(QueueUrl=buffer, MessageBody=json.dumps(_malformed_drop(buffered)))
    key = buffered.drop(_bad_csv(tmp_path), MODEL)
    # WHEN the buffer is consumed
    buffered.run_until_idle()
    # THEN the drop was validated, the malformed record was not retried, and it is parked once with its reason
    assert [entry.detail["source"] for entry in buffered.timeline if entry.name == "DatasetRejected"] == [
        f"s3://{buffered.settings.data_bucket}/{key}"]
    assert all(run["batchItemFailures"] == [] for run in _invocations(buffered, "validate_dataset"))
    (parked,) = _parked(buffered)
    assert "has no 'object'" in parked["reason"]
    record = parked["record"]
    assert record["responsePayload"] == {"errorType": "NonRetriableEventError", "errorMessage": parked["reason"]}
    assert json.loads(record["requestPayload"]["body"]) == _malformed_drop(buffered)  # the SQS record as received
    assert buffered.clients.sqs.receive_message(QueueUrl=buffer).get("Messages", []) == []


def test_a_malformed_event_invoked_directly_is_parked_once_and_not_raised(direct: LocalCloud) -> None:
    # GIVEN drops delivered by EventBridge straight to the function (asynchronous invocation)
    event = _malformed_drop(direct)
    # WHEN the malformed event arrives
    result = direct.invoke("validate_dataset", event)
    # THEN the function returns (Lambda retries nothing) with a one-line error, and parked the event with it
    assert result["outcome"] == "error" and result["parked"] is True and "\n" not in result["error"]
    (parked,) = _parked(direct)
    assert parked["reason"] == result["error"]
    assert parked["record"]["requestPayload"] == event
    assert parked["record"]["requestContext"]["condition"] == "NonRetriableEventError"
