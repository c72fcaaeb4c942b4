"""deploy_model: ModelEvaluated (approved) → a release by the model's strategy (or a wait for a human's approval);
ApprovalDecided → the decision applied; the deployment-check schedule → bake checks that promote, advance or abort
releases in progress, and the expiry of versions waiting for approval."""

from __future__ import annotations

from typing import Any

from sluice.deployment.approval import ApprovalDecision, ApprovalRefusedError
from sluice.events import DetailType
from sluice.events.sources import SCHEDULED_EVENT, EventError, ScheduleFired, SluiceEvent
from sluice.events.targets import scheduled_model
from sluice.handlers import trigger_handler
from sluice.steps.context import StepContext
from sluice.steps.deploy import check_releases, decide_approval, deploy_version
from sluice.wiring.routes import DEPLOYMENT_CHECK_KIND

step_context = StepContext.from_env()


def on_model_evaluated(event: SluiceEvent) -> dict[str, Any]:
    if event.detail.get("approved") is not True:
        return {"outcome": "ignored", "reason": "the candidate was not approved"}
    return deploy_version(step_context, event.model, event.version, correlation_id=event.correlation_id,
                          trigger=f"{event.detail_type} {event.event_id}")


def on_approval_decided(event: SluiceEvent) -> dict[str, Any]:
    """A decision for automation (the CLI's `sluice approve` / `reject` do the same in-process)."""
    try:
        decision = ApprovalDecision.parse(dict(event.detail), model=event.model, version=event.version,
                                          correlation_id=event.correlation_id)
        return decide_approval(step_context, decision, trigger=f"{event.detail_type} {event.event_id}")
    except ApprovalRefusedError as error:  # not pending, or malformed: one line, never retried
        raise EventError(f"{event.detail_type} {event.event_id}: {error}") from None


def on_check_schedule(fired: ScheduleFired) -> dict[str, Any]:
    model = scheduled_model(fired, kind=DEPLOYMENT_CHECK_KIND, action="check", names=step_context.settings.names,
                            models=step_context.config.names)
    if model is None:
        return {"outcome": "ignored", "reason": f"{fired.name or 'no rule'} is not a sluice deployment-check schedule"}
    return check_releases(step_context, (model,), correlation_id=fired.occurrence,
                          trigger=f"Scheduled Event {fired.occurrence}")


lambda_handler = trigger_handler("deploy", step_context.settings, {
    DetailType.MODEL_EVALUATED: on_model_evaluated, DetailType.APPROVAL_DECIDED: on_approval_decided,
    SCHEDULED_EVENT: on_check_schedule})
