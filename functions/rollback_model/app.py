"""rollback_model: "CloudWatch Alarm State Change" to ALARM on a model's endpoint → ModelRolledBack."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import idempotent
from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.idempotency import ALARM_KEY, idempotency_config, persistence_layer
from sluice.observability import logger, metrics, tracer
from sluice.steps.context import StepContext
from sluice.steps.rollback import rollback

step_context = StepContext.from_env()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
@idempotent(persistence_store=persistence_layer(step_context.settings), config=idempotency_config(ALARM_KEY))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event["detail"]
    alarm = str(detail["alarmName"])
    if (detail.get("state") or {}).get("value") != "ALARM":
        return {"outcome": "ignored", "reason": f"{alarm} is not in ALARM"}
    model = step_context.settings.names.model_of_alarm(alarm, step_context.config.names)
    if model is None:
        return {"outcome": "ignored", "reason": f"{alarm} is not a sluice endpoint alarm"}
    reason = f"alarm {alarm}: {(detail.get('state') or {}).get('reason', 'state ALARM')}"
    result = rollback(step_context, model, reason=reason[:500], correlation_id=str(event.get("id", alarm)))
    metrics.add_metric(name=f"Rollback_{result['outcome']}", unit=MetricUnit.Count, value=1)
    logger.info("rollback finished", extra=result)
    return result
