"""rollback_model: an alarm of a model's endpoint in ALARM → abort the release in progress, or roll live back
(ModelRolledBack); stale and duplicate alarms act not at all or once.

Accepts "CloudWatch Alarm State Change" (metric and composite alarms) and the alarm's own Lambda action.
"""

from __future__ import annotations

from typing import Any

from sluice.events.alarms import evaluated_since
from sluice.events.sources import ALARM_STATE_CHANGE, AlarmChanged
from sluice.events.targets import alarmed_model
from sluice.handlers import trigger_handler
from sluice.steps.context import StepContext
from sluice.steps.rollback import rollback

step_context = StepContext.from_env()


def on_alarm(alarm: AlarmChanged) -> dict[str, Any]:
    name = alarm.alarm_name
    if alarm.state != "ALARM":
        return {"outcome": "ignored", "reason": f"{name} is {alarm.state}, not ALARM (OK never rolls forward)"}
    model = alarmed_model(alarm, names=step_context.settings.names, models=step_context.config.names)
    if model is None:
        return {"outcome": "ignored", "reason": f"{name} is not a sluice endpoint alarm"}
    reason = f"alarm {name}: {alarm.reason or 'state ALARM'}"
    return rollback(step_context, model, reason=reason[:500], correlation_id=alarm.event_id,
                    trigger=f"{ALARM_STATE_CHANGE} {alarm.event_id}", alarm_at=alarm.timestamp,
                    judged_since=evaluated_since(alarm.state_data))


lambda_handler = trigger_handler("rollback", step_context.settings, {ALARM_STATE_CHANGE: on_alarm})
