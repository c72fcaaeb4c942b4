"""sluice's own events: their names, their detail, and how they are published."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.events.publisher import EventPublisher, PublishedEvent
    from sluice.events.types import DetailType

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
