"""detect_drift: a model's drift schedule → drift report (JSON + HTML), metrics, and DriftDetected if it drifted."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.handlers import lifecycle_handler
from sluice.idempotency import SCHEDULED_KEY
from sluice.steps.context import StepContext
from sluice.steps.drift import check_drift
from sluice.wiring import DRIFT_SCHEDULE_KIND

step_context = StepContext.from_env()


@lifecycle_handler("drift", step_context.settings, SCHEDULED_KEY)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    rule_arn = (event.get("resources") or [""])[0]
    model = step_context.settings.names.model_of_schedule_rule(DRIFT_SCHEDULE_KIND, rule_arn.rsplit("/", 1)[-1])
    if model is None or model not in step_context.config.models:
        return {"outcome": "ignored", "reason": f"{rule_arn or 'no rule'} is not a sluice drift schedule"}
    return check_drift(step_context, model, correlation_id=str(event["id"]))
