"""Tell people what releases and rollbacks did: one SNS topic per deployment."""

from __future__ import annotations

import json
from typing import Any


class Notifier:
    """Publishes to the notifications topic; a no-op when the deployment has none."""

    def __init__(self, sns_client: Any, topic_arn: str) -> None:
        self._sns = sns_client
        self.topic_arn = topic_arn

    def notify(self, subject: str, detail: dict[str, Any]) -> str | None:
        """Publish; returns the message id (None without a topic)."""
        if not self.topic_arn:
            return None
        response = self._sns.publish(
            TopicArn=self.topic_arn, Subject=_subject(subject),
            Message=json.dumps({"subject": subject, **detail}, sort_keys=True, default=str),
            MessageAttributes={"model": {"DataType": "String", "StringValue": str(detail.get("model", "-"))}},
        )
        return str(response["MessageId"])


def _subject(text: str) -> str:
    """SNS subjects: at most 100 printable ASCII characters, no line breaks."""
    clean = "".join(ch if 32 <= ord(ch) < 127 else "-" for ch in text.replace("\n", " "))
    return clean[:100] or "sluice"
