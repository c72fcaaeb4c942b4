"""sluice's own events: their names, their detail, and how they are published."""

from __future__ import annotations

from sluice.events.publisher import EventPublisher, PublishedEvent
from sluice.events.types import DetailType

__all__ = ["DetailType", "EventPublisher", "PublishedEvent"]
