"""deploy_model: ModelEvaluated (approved) → a release by the model's strategy; the deployment-check schedule →
bake checks that promote, advance or abort releases in progress."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.handlers import idempotent_on_event, observed
from sluice.idempotency import SCHEDULED_KEY, SLUICE_EVENT_KEY, idempotency_config
from sluice.steps.context import StepContext
from sluice.steps.deploy import deploy_version
from sluice.steps.release import check_releases
from sluice.wiring.routes import DEPLOYMENT_CHECK_KIND

step_context = StepContext.from_env()
evaluated_config = idempotency_config(SLUICE_EVENT_KEY)
schedule_config = idempotency_config(SCHEDULED_KEY)


def _trigger(event: dict[str, Any]) -> str:
    return f"{event.get('detail-type')} {event.get('id', '')}".strip()


@idempotent_on_event(step_context.settings, evaluated_config)
def on_model_evaluated(event: dict[str, Any]) -> dict[str, Any]:
    detail = event["detail"]
    if detail.get("approved") is not True:
        return {"outcome": "ignored", "reason": "the candidate was not approved"}
    return deploy_version(step_context, detail["model"], int(detail["version"]),
                          correlation_id=detail["correlation_id"], trigger=_trigger(event))


@idempotent_on_event(step_context.settings, schedule_config)
def on_check_schedule(event: dict[str, Any]) -> dict[str, Any]:
    rule = (event.get("resources") or [""])[0].rsplit("/", 1)[-1]
    model = step_context.settings.names.model_of_schedule_rule(DEPLOYMENT_CHECK_KIND, rule)
    if model not in step_context.config.models:
        return {"outcome": "ignored", "reason": f"{rule or 'no rule'} is not a sluice deployment-check schedule"}
    return check_releases(step_context, (model,), correlation_id=str(event["id"]), trigger=_trigger(event))


@observed("deploy")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    evaluated_config.register_lambda_context(context)
    schedule_config.register_lambda_context(context)
    if event.get("detail-type") == "Scheduled Event":
        return on_check_schedule(event=event)
    if event.get("detail-type") == "ModelEvaluated":
        return on_model_evaluated(event=event)
    return {"outcome": "ignored", "reason": f"deploy_model does not handle {event.get('detail-type')!r}"}
