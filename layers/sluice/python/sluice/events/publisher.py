"""Publish sluice events to the EventBridge bus."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sluice.events.types import DetailType
from sluice.naming import EVENT_SOURCE


class PublishError(RuntimeError):
    """EventBridge refused an event."""


@dataclass(frozen=True)
class PublishedEvent:
    detail_type: DetailType
    detail: dict[str, Any]
    event_id: str


class EventPublisher:
    """Puts events on the sluice bus. Every detail names its model and correlation id."""

    def __init__(self, events_client: Any, bus_name: str) -> None:
        self._client = events_client
        self._bus_name = bus_name

    def publish(self, detail_type: DetailType, detail: dict[str, Any]) -> PublishedEvent:
        for required in ("model", "correlation_id"):
            if not detail.get(required):
                raise ValueError(f"event {detail_type.value} needs {required!r} in its detail")
        response = self._client.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type.value,
                    "Detail": json.dumps(detail, sort_keys=True, default=str),
                    "EventBusName": self._bus_name,
                }
            ]
        )
        entry = response["Entries"][0]
        if response.get("FailedEntryCount") or "EventId" not in entry:
            raise PublishError(f"{detail_type.value} not published: {entry.get('ErrorMessage', entry)}")
        return PublishedEvent(detail_type, detail, entry["EventId"])
