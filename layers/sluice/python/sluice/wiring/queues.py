"""The SQS queues of a stage, declared once: a dead-letter queue per triggered function, and the optional
buffer of dropped files (``[stack] buffer_drops``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.wiring.functions import FUNCTIONS

if TYPE_CHECKING:
    from sluice.config import ProjectConfig

DEAD_LETTER_RETENTION_DAYS = 14
"""The most SQS keeps a message: a parked event is seen (its alarm notifies) well before it expires."""
BUFFERED_ROUTE = "dataset-dropped"
"""The route whose events go through the buffer queue when drops are buffered."""
BUFFER_BATCH_SIZE = 10
BUFFER_MAX_RECEIVES = 3
"""Deliveries of one buffered message before SQS moves it to validate_dataset's dead-letter queue."""


def buffer_visibility_s(function: str) -> int:
    """Six times the consuming function's timeout (AWS's advice for a queue a Lambda function consumes)."""
    return 6 * FUNCTIONS[function].timeout_s


def buffered_routes(config: ProjectConfig) -> frozenset[str]:
    """The routes whose events reach their function through a buffer queue in this configuration."""
    return frozenset({BUFFERED_ROUTE}) if config.stack.buffer_drops else frozenset()
