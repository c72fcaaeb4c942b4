"""A refused event is parked as Lambda's own invocation record, and always fits one SQS message."""

from __future__ import annotations

import json

from sluice.events.dead_letters import MAX_BODY_BYTES, NON_RETRIABLE, dead_letters_from_env, invocation_record


def test_the_record_has_lambdas_shape_with_the_reason_and_the_event() -> None:
    record = invocation_record("validate", "DatasetAccepted x has no model", {"detail-type": "DatasetAccepted"})
    assert record["requestPayload"] == {"detail-type": "DatasetAccepted"}
    assert record["responsePayload"] == {"errorType": NON_RETRIABLE, "errorMessage": "DatasetAccepted x has no model"}
    assert record["requestContext"]["condition"] == NON_RETRIABLE


def test_an_event_too_large_for_sqs_is_cut_and_says_so() -> None:
    # GIVEN an event of about 1 MB (EventBridge allows 256 KB, a direct invocation up to 1 MB)
    event = {"blob": "x" * 1_000_000}
    # WHEN it is parked THEN its record fits one SQS message and says how large the event was
    body = json.dumps(invocation_record("validate", "too big", event))
    assert len(body.encode()) <= MAX_BODY_BYTES
    payload = json.loads(body)["requestPayload"]
    assert payload["truncated"] is True and payload["bytes"] > 1_000_000 and payload["head"].startswith('{"blob"')


def test_a_function_without_a_dead_letter_queue_only_logs_its_refusals() -> None:
    assert dead_letters_from_env({}) is None
    assert dead_letters_from_env({"SLUICE_DEAD_LETTER_QUEUE": "https://sqs/q"}) is not None
