"""Non-retriable failures go to the function's dead-letter queue once, with the reason.

An event that is for sluice but malformed cannot be fixed by a retry. Raising would make Lambda retry it (an
asynchronous invocation twice more; an SQS message until its queue's maxReceiveCount) before parking it without
a reason; Lambda's maximum retry attempts cannot be set per error. So the edge parks it itself, in the same
dead-letter queue Lambda's on-failure destination uses and in the same record shape (``requestContext``,
``requestPayload``, ``responsePayload``: AWS Lambda Developer Guide, "Invocation records"), and returns normally.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol

ENV_DEAD_LETTER_QUEUE = "SLUICE_DEAD_LETTER_QUEUE"
NON_RETRIABLE = "NonRetriableEventError"
MAX_BODY_BYTES = 256 * 1024  # SQS's largest message
_PAYLOAD_BUDGET = MAX_BODY_BYTES - 8 * 1024  # room for the record around the payload


class DeadLetters(Protocol):
    def park(self, function: str, reason: str, event: Any) -> None:
        """Keep ``event`` with ``reason`` for a person to look at (and redrive once fixed)."""
        ...


def invocation_record(function: str, reason: str, event: Any) -> dict[str, Any]:
    """Lambda's invocation record of a failed event, its payload cut to fit an SQS message if it must."""
    payload = json.dumps(event, default=str)
    if len(payload.encode()) > _PAYLOAD_BUDGET:
        event = {"truncated": True, "bytes": len(payload.encode()),
                 "head": payload.encode()[:_PAYLOAD_BUDGET // 2].decode(errors="ignore")}
    return {"version": "1.0",
            "requestContext": {"functionName": function, "condition": NON_RETRIABLE, "approximateInvokeCount": 1},
            "requestPayload": event,
            "responsePayload": {"errorType": NON_RETRIABLE, "errorMessage": reason}}


class SqsDeadLetters:
    """The function's dead-letter queue (its URL from ``SLUICE_DEAD_LETTER_QUEUE``)."""

    def __init__(self, url: str, client: Callable[[], Any]) -> None:
        self.url = url
        self._client = client
        self._sqs: Any = None

    def park(self, function: str, reason: str, event: Any) -> None:
        if self._sqs is None:
            self._sqs = self._client()
        self._sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps(invocation_record(function, reason, event)),
                               MessageAttributes={
                                   "reason": {"DataType": "String", "StringValue": reason[:1024] or "-"},
                                   "function": {"DataType": "String", "StringValue": function}})


def dead_letters_from_env(environ: Mapping[str, str] | None = None) -> SqsDeadLetters | None:
    """The function's dead-letter queue, or None where it has none (then a refusal is only logged and counted)."""
    url = (os.environ if environ is None else environ).get(ENV_DEAD_LETTER_QUEUE, "")
    if not url:
        return None

    def client() -> Any:
        import boto3

        return boto3.client("sqs")

    return SqsDeadLetters(url, client)
