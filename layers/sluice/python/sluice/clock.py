"""Time, in one place, so tests and the local runtime can control it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]


def system_clock() -> float:
    return time.time()


def iso(epoch_s: float) -> str:
    """ISO-8601 UTC with microseconds (sorts lexicographically)."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
