"""Time, in one place, so tests and the local runtime can control it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]

_skew_s = 0.0
_skew_lock = threading.Lock()  # handlers read the skew while a test may advance it


def system_clock() -> float:
    """Wall-clock time plus the skew the local runtime may add (zero on AWS)."""
    return time.time() + _skew_s


def advance(seconds: float) -> float:
    """Move this process's ``system_clock`` forward (the local runtime's bake minutes); returns the new time."""
    global _skew_s
    if seconds < 0:
        raise ValueError("time only moves forward")
    with _skew_lock:
        _skew_s += seconds
    return system_clock()


def reset() -> None:
    """Back to wall-clock time."""
    global _skew_s
    with _skew_lock:
        _skew_s = 0.0


def iso(epoch_s: float) -> str:
    """ISO-8601 UTC with microseconds (sorts lexicographically)."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> float:
    """Epoch seconds of an ISO-8601 timestamp (``…Z``, ``…+0000`` or ``…+00:00``, any precision)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    elif len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit():
        value = f"{value[:-2]}:{value[-2:]}"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
