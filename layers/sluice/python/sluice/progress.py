"""Progress of long steps (training trials), told to whoever listens: the local console, else a debug log line."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Listener = Callable[[str, dict[str, Any]], None]

_listeners: list[Listener] = []
_lock = threading.Lock()
_logger = logging.getLogger("sluice.progress")


def report(kind: str, detail: dict[str, Any]) -> None:
    """Tell every listener; a listener that fails is logged, never allowed to fail the step it watches."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(kind, detail)
        except Exception:  # a broken console must not fail a training
            _logger.warning("progress listener failed on %s", kind, exc_info=True)
    if not listeners:
        _logger.debug("%s %s", kind, json.dumps(detail, default=str))


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener(kind, detail)`` for every report made inside the block."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)
