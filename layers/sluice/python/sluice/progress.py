"""Progress of long steps (training trials), told to whoever listens: the local console, else a debug log line.

Listeners hear the reports made in their own context (thread): two handlers running at once in one process
each hear only their own step.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Listener = Callable[[str, dict[str, Any]], None]

_listeners: ContextVar[tuple[Listener, ...]] = ContextVar("sluice_progress_listeners", default=())
_logger = logging.getLogger("sluice.progress")


def report(kind: str, detail: dict[str, Any]) -> None:
    """Tell every listener; a listener that fails is logged, never allowed to fail the step it watches."""
    listeners = _listeners.get()
    for listener in listeners:
        try:
            listener(kind, detail)
        except Exception:  # a broken console must not fail a training
            _logger.warning("progress listener failed on %s", kind, exc_info=True)
    if not listeners:
        _logger.debug("%s %s", kind, json.dumps(detail, default=str))


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener(kind, detail)`` for every report made inside the block (in this thread)."""
    token = _listeners.set((*_listeners.get(), listener))
    try:
        yield
    finally:
        _listeners.reset(token)
