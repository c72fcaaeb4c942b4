"""validate_dataset: S3 "Object Created" under incoming/<model>/ → DatasetAccepted or DatasetRejected."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.handlers import lifecycle_handler
from sluice.idempotency import OBJECT_CREATED_KEY
from sluice.steps.context import StepContext
from sluice.steps.validate import dropped_object_from_event, validate_drop

step_context = StepContext.from_env()


@lifecycle_handler("validate", step_context.settings, OBJECT_CREATED_KEY)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return validate_drop(step_context, dropped_object_from_event(event))
