"""The SQS queues of a stage, declared once: a dead-letter queue per triggered function, and the optional
buffer of dropped files (``[stack] buffer_drops``)."""

from __future__ import annotations

DEAD_LETTER_RETENTION_DAYS = 14
"""The most SQS keeps a message: a parked event is seen (its alarm notifies) well before it expires."""
BUFFERED_ROUTE = "dataset-dropped"
"""The route whose events go through the buffer queue when drops are buffered."""
BUFFER_BATCH_SIZE = 10
BUFFER_MAX_RECEIVES = 3
"""Deliveries of one buffered message before SQS moves it to validate_dataset's dead-letter queue."""
BUFFER_VISIBILITY_S = 6 * 300
"""Six times validate_dataset's timeout (AWS's advice for a queue a Lambda function consumes)."""
