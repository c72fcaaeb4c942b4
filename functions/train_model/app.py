"""train_model: DatasetAccepted, the retrain schedule, DriftDetected or a quality alarm → ModelTrained or
TrainingFailed (drift and alarm retrains are debounced by the retrain guard); with the sagemaker backend it
starts a training job, and the job's "SageMaker Training Job State Change" becomes ModelTrained or TrainingFailed.

The retrain schedule is a rule or a Scheduler schedule named ``<prefix>-retrain-<model>``, or a Scheduler whose
input is ``{"model": "<name>", "action": "retrain"}``; alarms arrive through EventBridge or as the alarm's action.
"""

from __future__ import annotations

from typing import Any

from sluice.events import DetailType
from sluice.events.sources import (
    ALARM_STATE_CHANGE,
    SCHEDULED_EVENT,
    TRAINING_JOB_STATE_CHANGE,
    AlarmChanged,
    ScheduleFired,
    SluiceEvent,
    TrainingJobChanged,
)
from sluice.events.targets import alarmed_model, scheduled_model
from sluice.handlers import trigger_handler
from sluice.steps.context import StepContext
from sluice.steps.retrain import guarded_retrain
from sluice.steps.train import train_accepted
from sluice.steps.train_job import on_training_job_changed
from sluice.wiring import RETRAIN_SCHEDULE_KIND

step_context = StepContext.from_env()


def on_dataset_accepted(event: SluiceEvent) -> dict[str, Any]:
    return train_accepted(step_context, event.model, event.text("data_version"), correlation_id=event.correlation_id,
                          contract_version=str(event.detail.get("contract_version", "")))


def on_schedule(fired: ScheduleFired) -> dict[str, Any]:
    model = scheduled_model(fired, kind=RETRAIN_SCHEDULE_KIND, action="retrain", names=step_context.settings.names,
                            models=step_context.config.names)
    if model is None:
        return {"outcome": "ignored", "reason": f"{fired.name or 'no rule'} is not a sluice retrain schedule"}
    return guarded_retrain(step_context, model, trigger="schedule", correlation_id=fired.occurrence, force=True)


def on_drift(event: SluiceEvent) -> dict[str, Any]:
    return guarded_retrain(step_context, event.model, trigger="DriftDetected", correlation_id=event.correlation_id)


def on_quality_alarm(alarm: AlarmChanged) -> dict[str, Any]:
    if alarm.state != "ALARM":
        return {"outcome": "ignored", "reason": f"{alarm.alarm_name} is {alarm.state}, not ALARM"}
    model = alarmed_model(alarm, names=step_context.settings.names, models=step_context.config.names)
    if model is None:
        return {"outcome": "ignored", "reason": f"{alarm.alarm_name} is not a sluice model alarm"}
    return guarded_retrain(step_context, model, trigger=f"alarm {alarm.alarm_name}", correlation_id=alarm.event_id)


def on_training_job(changed: TrainingJobChanged) -> dict[str, Any]:
    return on_training_job_changed(step_context, changed)


lambda_handler = trigger_handler("train", step_context.settings, {
    DetailType.DATASET_ACCEPTED: on_dataset_accepted, DetailType.DRIFT_DETECTED: on_drift,
    SCHEDULED_EVENT: on_schedule, ALARM_STATE_CHANGE: on_quality_alarm, TRAINING_JOB_STATE_CHANGE: on_training_job})
