"""rollback_model: "CloudWatch Alarm State Change" to ALARM on a model's endpoint → abort the release in
progress, or roll live back (ModelRolledBack); stale and duplicate alarms act not at all or once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.events.alarms import evaluated_since
from sluice.handlers import lifecycle_handler
from sluice.idempotency import ALARM_KEY
from sluice.steps.context import StepContext
from sluice.steps.rollback import rollback

step_context = StepContext.from_env()


@lifecycle_handler("rollback", step_context.settings, ALARM_KEY)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event["detail"]
    alarm = str(detail["alarmName"])
    state = detail.get("state") or {}
    if state.get("value") != "ALARM":
        return {"outcome": "ignored", "reason": f"{alarm} is {state.get('value')}, not ALARM (OK never rolls forward)"}
    model = step_context.settings.names.model_of_alarm(alarm, step_context.config.names)
    if model is None:
        return {"outcome": "ignored", "reason": f"{alarm} is not a sluice endpoint alarm"}
    reason = f"alarm {alarm}: {state.get('reason', 'state ALARM')}"
    return rollback(step_context, model, reason=reason[:500], correlation_id=str(event.get("id", alarm)),
                    trigger=f"CloudWatch Alarm State Change {event.get('id', '')}".strip(),
                    alarm_at=state.get("timestamp"), judged_since=evaluated_since(state))
