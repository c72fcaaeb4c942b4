"""The versions queued behind a release in progress, in the order they start."""

from __future__ import annotations

from collections.abc import Iterable

from sluice.registry.entities import QueuedDeployment


def start_order(queued: Iterable[QueuedDeployment]) -> list[QueuedDeployment]:
    """First queued, first started (the lower version first when two were queued at the same instant)."""
    return sorted(queued, key=lambda waiting: (waiting.queued_at, waiting.version))
