"""Powertools Idempotency on DynamoDB: S3, SNS, SQS and EventBridge deliver at least once.

The key is derived after parsing, per shape (``sluice.events.sources``: object events by bucket, key, etag and
version; sluice events by detail-type, model, versions and correlation id; schedules by occurrence; alarms by
name, state and state timestamp), so an event without ``detail`` is parsed, not refused before the handler runs.
"""

from __future__ import annotations

import threading
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from sluice.observability import logger
from sluice.settings import Settings

ONE_DAY_S = 24 * 3600
REPLAYED: list[str] = []
"""Idempotency keys whose stored response this process returned instead of running (``sluice invoke`` says so)."""
_here = threading.local()


def replays_here() -> int:
    """How many stored responses this thread has returned (a handler compares before and after an item: another
    handler running at the same time in this process replays on its own thread)."""
    count: int = getattr(_here, "replays", 0)
    return count


def persistence_layer(settings: Settings) -> DynamoDBPersistenceLayer:
    """One per function: Powertools configures a persistence layer once, with the first config it sees."""
    return DynamoDBPersistenceLayer(table_name=settings.idempotency_table)


def idempotency_config() -> IdempotencyConfig:
    """The whole parsed key is hashed; a missing key is a bug in the parser, so it raises."""
    return IdempotencyConfig(raise_on_no_idempotency_key=True, expires_after_seconds=ONE_DAY_S,
                             response_hook=_replayed)


def _replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """A duplicate delivery: the stored response is returned unchanged; the replay is logged and remembered."""
    REPLAYED.append(idempotent_data.idempotency_key)
    _here.replays = replays_here() + 1
    logger.info(f"replayed the stored response of {idempotent_data.idempotency_key} (an earlier delivery)")
    return response
