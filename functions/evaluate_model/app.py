"""evaluate_model: ModelTrained → ModelEvaluated (approved or rejected, with reasons)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import idempotent
from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.idempotency import SLUICE_EVENT_KEY, idempotency_config, persistence_layer
from sluice.observability import logger, metrics, tracer
from sluice.steps.context import StepContext
from sluice.steps.evaluate import evaluate_candidate

step_context = StepContext.from_env()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
@idempotent(persistence_store=persistence_layer(step_context.settings), config=idempotency_config(SLUICE_EVENT_KEY))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event["detail"]
    result = evaluate_candidate(step_context, detail["model"], int(detail["version"]),
                                correlation_id=detail["correlation_id"])
    metrics.add_metric(name=f"Evaluation_{result['outcome']}", unit=MetricUnit.Count, value=1)
    logger.info("candidate evaluated", extra=result)
    return result
