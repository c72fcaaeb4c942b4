"""deploy_model: ModelEvaluated (approved) → registry update + endpoint swap → ModelDeployed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.handlers import lifecycle_handler
from sluice.idempotency import SLUICE_EVENT_KEY
from sluice.steps.context import StepContext
from sluice.steps.deploy import deploy_version

step_context = StepContext.from_env()


@lifecycle_handler("deploy", step_context.settings, SLUICE_EVENT_KEY)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event["detail"]
    if detail.get("approved") is not True:
        return {"outcome": "ignored", "reason": "the candidate was not approved"}
    return deploy_version(step_context, detail["model"], int(detail["version"]),
                          correlation_id=detail["correlation_id"])
