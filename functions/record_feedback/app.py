"""record_feedback: labels dropped under feedback/<model>/ → live quality per version (metrics, LiveQualityMeasured)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.handlers import lifecycle_handler
from sluice.idempotency import OBJECT_CREATED_KEY
from sluice.steps.context import StepContext
from sluice.steps.feedback import record_feedback

step_context = StepContext.from_env()


@lifecycle_handler("feedback", step_context.settings, OBJECT_CREATED_KEY)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    key = str(event["detail"]["object"]["key"])
    return record_feedback(step_context, key, correlation_id=f"feedback-{event['detail']['object'].get('etag', key)}")
