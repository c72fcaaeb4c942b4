"""The routing table: every trigger and the function it starts.

There is exactly one copy of this table. infra/ turns each route into EventBridge
rules (and schedules); the local runtime dispatches events with the same patterns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sluice.events.types import DetailType
from sluice.naming import (
    DEPLOYMENT_CHECK_KIND,
    DRIFT_SCHEDULE_KIND,
    EVENT_SOURCE,
    RETRAIN_SCHEDULE_KIND,
    ResourceNames,
)

if TYPE_CHECKING:
    from sluice.config import ModelConfig, ProjectConfig

QUALITY_ALARM_KIND = "live-accuracy"  # the LiveAccuracy alarm of a model: <prefix>-<model>-live-accuracy


@dataclass(frozen=True)
class PatternContext:
    """Deployment facts an event pattern needs."""

    data_bucket: str
    names: ResourceNames


@dataclass(frozen=True)
class ObjectCreatedTrigger:
    """An S3 object created under ``prefix`` in the data bucket (S3 → default bus)."""

    prefix: str

    def pattern(self, ctx: PatternContext) -> dict[str, Any]:
        return {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [ctx.data_bucket]}, "object": {"key": [{"prefix": self.prefix}]}},
        }


@dataclass(frozen=True)
class BusEventTrigger:
    """A sluice event on the sluice bus, optionally filtered on detail fields."""

    detail_type: DetailType
    detail_filter: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def pattern(self, ctx: PatternContext) -> dict[str, Any]:
        pattern: dict[str, Any] = {"source": [EVENT_SOURCE], "detail-type": [self.detail_type.value]}
        if self.detail_filter:
            pattern["detail"] = {key: list(values) for key, values in self.detail_filter}
        return pattern


@dataclass(frozen=True)
class ScheduleTrigger:
    """A per-model schedule; the expression comes from the model's configuration (``<section>.<config_key>``)."""

    config_key: str = "retrain_schedule"
    section: str = "training"
    kind: str = RETRAIN_SCHEDULE_KIND
    """Names the rule: ``<prefix>-<kind>-<model>`` (the handler reads the model back from it)."""

    def expression(self, model: ModelConfig) -> str | None:
        value = getattr(getattr(model, self.section), self.config_key, None)
        return str(value) if value else None

    def rule_name(self, names: ResourceNames, model: str) -> str:
        return names.schedule_rule(self.kind, model)


@dataclass(frozen=True)
class AlarmTrigger:
    """A CloudWatch alarm of a model's endpoint entering ``state`` (default bus)."""

    state: str = "ALARM"
    kind: str | None = None
    """Only the alarms ``<prefix>-<model>-<kind>`` (default: every alarm of the prefix)."""

    def pattern(self, ctx: PatternContext) -> dict[str, Any]:
        prefix = ctx.names.endpoint_alarm_prefix
        name = {"prefix": prefix} if self.kind is None else {"wildcard": f"{prefix}*-{self.kind}"}
        return {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {
                "alarmName": [name],
                "state": {"value": [self.state]},
            },
        }


@dataclass(frozen=True)
class SageMakerJobTrigger:
    """A SageMaker job of this deployment reaching a final status (default bus): the engine runs the job, the
    function only starts it and acts on its end."""

    job: str = "Training"
    kind: str = "train"
    """The job names' kind: ``<prefix>-<kind>-…`` (``ResourceNames.job_prefix``)."""
    statuses: tuple[str, ...] = ("Completed", "Failed", "Stopped")

    @property
    def detail_type(self) -> str:
        return f"SageMaker {self.job} Job State Change"

    def pattern(self, ctx: PatternContext) -> dict[str, Any]:
        return {
            "source": ["aws.sagemaker"],
            "detail-type": [self.detail_type],
            "detail": {f"{self.job}JobName": [{"prefix": ctx.names.job_prefix(self.kind)}],
                       f"{self.job}JobStatus": list(self.statuses)},
        }


Trigger = ObjectCreatedTrigger | BusEventTrigger | ScheduleTrigger | AlarmTrigger | SageMakerJobTrigger


@dataclass(frozen=True)
class Route:
    """One row of the wiring table."""

    name: str
    trigger: Trigger
    function: str
    description: str

    @property
    def on_sluice_bus(self) -> bool:
        """Sluice events travel on the custom bus; AWS service events on the default bus."""
        return isinstance(self.trigger, BusEventTrigger)

    @property
    def needs_sagemaker(self) -> bool:
        """Only a stage with a model whose training (or validation) may run on SageMaker has this route."""
        return isinstance(self.trigger, SageMakerJobTrigger)

    def in_use(self, config: ProjectConfig) -> bool:
        """Whether a stage of ``config`` deploys this route (a SageMaker job route only where its jobs may run)."""
        if not isinstance(self.trigger, SageMakerJobTrigger):
            return True
        if self.trigger.job == "Processing":
            return any(model.data.processing_job_above_mb is not None for model in config.models.values())
        return any(model.training.backend != "lambda" for model in config.models.values())


ROUTES: tuple[Route, ...] = (
    Route("dataset-dropped", ObjectCreatedTrigger(prefix="incoming/"), "validate_dataset",
          "A file dropped under incoming/<model>/ is validated"),
    Route("dataset-accepted", BusEventTrigger(DetailType.DATASET_ACCEPTED), "train_model",
          "Accepted data is trained on"),
    Route("retrain-schedule", ScheduleTrigger(), "train_model",
          "Scheduled retraining on the latest accepted data"),
    Route("model-trained", BusEventTrigger(DetailType.MODEL_TRAINED), "evaluate_model",
          "A trained candidate is evaluated against live"),
    Route("model-approved", BusEventTrigger(DetailType.MODEL_EVALUATED, (("approved", (True,)),)), "deploy_model",
          "An approved candidate is registered and deployed"),
    Route("approval-decided", BusEventTrigger(DetailType.APPROVAL_DECIDED), "deploy_model",
          "A decision on a version waiting for approval: approve releases it, reject retires it"),
    Route("deployment-check", ScheduleTrigger("check_schedule", "deployment", DEPLOYMENT_CHECK_KIND), "deploy_model",
          "Bake checks of a release in progress: promote, advance or abort; then start a queued release; "
          "retire versions whose approval expired"),
    Route("endpoint-alarm", AlarmTrigger(), "rollback_model",
          "An endpoint alarm in ALARM rolls back to the last good model"),
    Route("drift-schedule", ScheduleTrigger("drift_schedule", "monitoring", DRIFT_SCHEDULE_KIND), "detect_drift",
          "Scheduled drift detection: captured traffic vs the live version's training baseline"),
    Route("drift-detected", BusEventTrigger(DetailType.DRIFT_DETECTED, (("retrain", (True,)),)), "train_model",
          "Detected drift retrains (debounced: one at a time, then a cool-down)"),
    Route("quality-alarm", AlarmTrigger(kind=QUALITY_ALARM_KIND), "train_model",
          "The live-accuracy alarm in ALARM retrains (debounced)"),
    Route("training-job-ended", SageMakerJobTrigger(), "train_model",
          "A SageMaker training job of a version ended: a candidate (ModelTrained) or failed (TrainingFailed)"),
    Route("validation-job-ended", SageMakerJobTrigger("Processing", "validate"), "validate_dataset",
          "A SageMaker processing job validating a large drop ended: accepted (DatasetAccepted) or quarantined "
          "(DatasetRejected)"),
    Route("feedback-dropped", ObjectCreatedTrigger(prefix="feedback/"), "record_feedback",
          "Labels dropped under feedback/<model>/ are joined to captured predictions: live quality"),
    Route("score-dropped", ObjectCreatedTrigger(prefix="score/"), "score_batch",
          "A file dropped under score/<model>/[v<N>/] is scored row by row into scored/<model>/"),
)


def routes_in_use(config: ProjectConfig) -> tuple[Route, ...]:
    """The routes a stage of ``config`` deploys: the SageMaker job routes only where a model's training (or
    validation) may run on SageMaker (each is a rule on the account's default bus, which holds 300)."""
    return tuple(route for route in ROUTES if route.in_use(config))


def routes_for(function: str) -> tuple[Route, ...]:
    """Every route that starts ``function``."""
    return tuple(route for route in ROUTES if route.function == function)
