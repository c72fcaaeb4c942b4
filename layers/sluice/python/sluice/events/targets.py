"""Which model a parsed schedule or alarm is for: sluice's naming, or a Scheduler input naming the model."""

from __future__ import annotations

from sluice.events.sources import AlarmChanged, EventError, ScheduleFired
from sluice.naming import ResourceNames


def scheduled_model(fired: ScheduleFired, *, kind: str, action: str, names: ResourceNames,
                    models: tuple[str, ...]) -> str | None:
    """The configured model a schedule fired for.

    A rule or schedule delivered through EventBridge is sluice's when named ``<prefix>-<kind>-<model>`` (else None:
    not for sluice). A Scheduler input is meant for this function: it must name a configured model (or carry a
    sluice-named schedule ARN) and, if it names an action, ``action``; anything else raises ``EventError``.
    """
    if fired.shape != "scheduler-input":
        model = names.model_of_schedule_rule(kind, fired.name)
        return model if model in models else None
    if fired.action not in (None, action):
        raise EventError(f"schedule input action {fired.action!r} is not {action!r}, the only action of this function")
    model = fired.model or names.model_of_schedule_rule(kind, fired.name)
    if model is None:
        raise EventError(f"a schedule invoked the {action} function with no input naming the model: give it the input "
                         f'{{"model": "<name>", "action": "{action}"}}')
    if model not in models:
        raise EventError(f"schedule input names model {model!r}, which is not configured (models: {', '.join(models)})")
    return model


def alarmed_model(alarm: AlarmChanged, *, names: ResourceNames, models: tuple[str, ...]) -> str | None:
    """The model a sluice alarm (``<prefix>-<model>-…``) belongs to; None for any other alarm."""
    return names.model_of_alarm(alarm.alarm_name, models)
