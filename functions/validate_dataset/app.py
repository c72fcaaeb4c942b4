"""validate_dataset: S3 "Object Created" under incoming/<model>/ → DatasetAccepted or DatasetRejected."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import idempotent
from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.idempotency import OBJECT_CREATED_KEY, idempotency_config, persistence_layer
from sluice.observability import logger, metrics, tracer
from sluice.steps.context import StepContext
from sluice.steps.validate import dropped_object_from_event, validate_drop

step_context = StepContext.from_env()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
@idempotent(persistence_store=persistence_layer(step_context.settings), config=idempotency_config(OBJECT_CREATED_KEY))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = validate_drop(step_context, dropped_object_from_event(event))
    metrics.add_metric(name=f"Dataset_{result['outcome']}", unit=MetricUnit.Count, value=1)
    logger.info("dataset validated", extra=result)
    return result
