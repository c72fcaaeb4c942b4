"""train_model: DatasetAccepted, the retrain schedule, DriftDetected or a quality alarm → ModelTrained or
TrainingFailed (drift and alarm retrains are debounced by the retrain guard)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.handlers import idempotent_on_event, observed
from sluice.idempotency import ALARM_KEY, SCHEDULED_KEY, SLUICE_EVENT_KEY, idempotency_config
from sluice.steps.context import StepContext
from sluice.steps.retrain import guarded_retrain
from sluice.steps.train import train_accepted

step_context = StepContext.from_env()
accepted_config = idempotency_config(SLUICE_EVENT_KEY)
schedule_config = idempotency_config(SCHEDULED_KEY)
alarm_config = idempotency_config(ALARM_KEY)


@idempotent_on_event(step_context.settings, accepted_config)
def on_dataset_accepted(event: dict[str, Any]) -> dict[str, Any]:
    detail = event["detail"]
    return train_accepted(step_context, detail["model"], detail["data_version"],
                          correlation_id=detail["correlation_id"],
                          contract_version=str(detail.get("contract_version", "")))


@idempotent_on_event(step_context.settings, schedule_config)
def on_schedule(event: dict[str, Any]) -> dict[str, Any]:
    rule_arn = (event.get("resources") or [""])[0]
    model = step_context.settings.names.model_of_retrain_rule(rule_arn.rsplit("/", 1)[-1])
    if model is None:
        return {"outcome": "ignored", "reason": f"{rule_arn or 'no rule'} is not a sluice retrain schedule"}
    return guarded_retrain(step_context, model, trigger="schedule", correlation_id=str(event["id"]), force=True)


@idempotent_on_event(step_context.settings, accepted_config)
def on_drift(event: dict[str, Any]) -> dict[str, Any]:
    detail = event["detail"]
    return guarded_retrain(step_context, detail["model"], trigger="DriftDetected",
                           correlation_id=detail["correlation_id"])


@idempotent_on_event(step_context.settings, alarm_config)
def on_quality_alarm(event: dict[str, Any]) -> dict[str, Any]:
    alarm = str(event["detail"]["alarmName"])
    model = step_context.settings.names.model_of_alarm(alarm, step_context.config.names)
    if model is None:
        return {"outcome": "ignored", "reason": f"{alarm} is not a sluice model alarm"}
    return guarded_retrain(step_context, model, trigger=f"alarm {alarm}", correlation_id=str(event.get("id", alarm)))


@observed("train")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    accepted_config.register_lambda_context(context)
    schedule_config.register_lambda_context(context)
    alarm_config.register_lambda_context(context)
    if event.get("detail-type") == "Scheduled Event":
        return on_schedule(event=event)
    if event.get("detail-type") == "DatasetAccepted":
        return on_dataset_accepted(event=event)
    if event.get("detail-type") == "DriftDetected":
        return on_drift(event=event)
    if event.get("detail-type") == "CloudWatch Alarm State Change":
        return on_quality_alarm(event=event)
    return {"outcome": "ignored", "reason": f"train_model does not handle {event.get('detail-type')!r}"}
