"""Powertools Idempotency on DynamoDB: S3 and EventBridge deliver at least once."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

from sluice.settings import Settings

# moto (and S3 in general) may repeat the envelope id: key object events on the object itself.
OBJECT_CREATED_KEY = (
    '[detail.bucket.name, detail.object.key, detail.object.etag || detail.object."eTag", detail.object."version-id"]'
)
# sluice events: the same fact (model, versions, correlation id) must not act twice.
SLUICE_EVENT_KEY = '["detail-type", detail.model, detail.version, detail.data_version, detail.correlation_id]'
# Scheduled events and alarm state changes carry a unique envelope id per occurrence.
SCHEDULED_KEY = "[id, resources[0], time]"
ALARM_KEY = "[detail.alarmName, detail.state.value, detail.state.timestamp]"

ONE_DAY_S = 24 * 3600


def persistence_layer(settings: Settings) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=settings.idempotency_table)


def idempotency_config(event_key: str) -> IdempotencyConfig:
    return IdempotencyConfig(event_key_jmespath=event_key, raise_on_no_idempotency_key=True,
                             expires_after_seconds=ONE_DAY_S)
