"""Powertools Idempotency on DynamoDB: S3, SNS, SQS and EventBridge deliver at least once.

The key is derived after parsing, per shape (``sluice.events.sources``: object events by bucket, key, etag and
version; sluice events by detail-type, model, versions and correlation id; schedules by occurrence; alarms by
name, state and state timestamp), so an event without ``detail`` is parsed, not refused before the handler runs.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

from sluice.settings import Settings

ONE_DAY_S = 24 * 3600


def persistence_layer(settings: Settings) -> DynamoDBPersistenceLayer:
    """One per function: Powertools configures a persistence layer once, with the first config it sees."""
    return DynamoDBPersistenceLayer(table_name=settings.idempotency_table)


def idempotency_config() -> IdempotencyConfig:
    """The whole parsed key is hashed; a missing key is a bug in the parser, so it raises."""
    return IdempotencyConfig(raise_on_no_idempotency_key=True, expires_after_seconds=ONE_DAY_S)
