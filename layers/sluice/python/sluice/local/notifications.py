"""The notifications topic on the embedded AWS: SNS → an SQS queue the runtime shows in its timeline."""

from __future__ import annotations

import json
from typing import Any

from sluice.settings import Settings


def provision_notifications(clients: Any, settings: Settings) -> str:
    """Create the topic (as the stack does) and a queue subscribed to it; returns the queue URL."""
    topic_arn = clients.sns.create_topic(Name=settings.names.notifications_topic)["TopicArn"]
    url = clients.sqs.create_queue(QueueName=f"{settings.names.notifications_topic}-local")["QueueUrl"]
    arn = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    clients.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return str(url)


def notification_queue_url(clients: Any, settings: Settings) -> str:
    return str(clients.sqs.get_queue_url(QueueName=f"{settings.names.notifications_topic}-local")["QueueUrl"])


def read_notification(body: str) -> tuple[str, dict[str, Any]]:
    """(subject, detail) of an SNS notification delivered to SQS."""
    envelope = json.loads(body)
    try:
        detail = json.loads(envelope.get("Message", "{}"))
    except json.JSONDecodeError:
        detail = {"message": envelope.get("Message")}
    return str(envelope.get("Subject") or detail.get("subject") or "notification"), detail
