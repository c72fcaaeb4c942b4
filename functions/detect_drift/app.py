"""detect_drift: a model's drift schedule → drift report (JSON + HTML), metrics, and DriftDetected if it drifted.

The schedule is a rule or a Scheduler schedule named ``<prefix>-drift-<model>``, or a Scheduler whose input is
``{"model": "<name>", "action": "drift"}``.
"""

from __future__ import annotations

from typing import Any

from sluice.events.sources import SCHEDULED_EVENT, ScheduleFired
from sluice.events.targets import scheduled_model
from sluice.handlers import trigger_handler
from sluice.steps.context import StepContext
from sluice.steps.drift import check_drift
from sluice.wiring import DRIFT_SCHEDULE_KIND

step_context = StepContext.from_env()


def on_schedule(fired: ScheduleFired) -> dict[str, Any]:
    model = scheduled_model(fired, kind=DRIFT_SCHEDULE_KIND, action="drift", names=step_context.settings.names,
                            models=step_context.config.names)
    if model is None:
        return {"outcome": "ignored", "reason": f"{fired.name or 'no rule'} is not a sluice drift schedule"}
    return check_drift(step_context, model, correlation_id=fired.occurrence)


lambda_handler = trigger_handler("drift", step_context.settings, {SCHEDULED_EVENT: on_schedule})
