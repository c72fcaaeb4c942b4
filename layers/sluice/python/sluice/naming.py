"""Names of the resources one sluice deployment owns, derived from one prefix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

LIVE_ALIAS = "live"
EVENT_SOURCE = "sluice"
RETRAIN_SCHEDULE_KIND = "retrain"
DRIFT_SCHEDULE_KIND = "drift"
DEPLOYMENT_CHECK_KIND = "deployment-check"
SCHEDULE_KINDS = (RETRAIN_SCHEDULE_KIND, DRIFT_SCHEDULE_KIND, DEPLOYMENT_CHECK_KIND)
LONGEST_STAGE_PREFIX = "sluice-prod"
THROWAWAY_STAGE_PATTERN = r"^x[a-z0-9]{3}$"
"""Throwaway stages (``make smoke``): like dev, and no longer than prod, so every derived name still fits."""
NAME_LIMITS = {"Lambda function name": 64, "EventBridge rule name": 64, "Firehose stream name": 64,
               "CloudWatch alarm name": 255, "IAM role name": 64}
"""AWS's limits on the names sluice derives per model (Lambda, EventBridge and Firehose API references)."""


STAGE_PREFIX_HEAD = "sluice-"
"""A deployed stage's resource prefix is ``sluice-<stage>`` (``infra/stages.Stage.prefix``)."""


def stage_prefix(stage: str) -> str:
    """The resource prefix of the stage called ``stage`` (``prod`` → ``sluice-prod``)."""
    return f"{STAGE_PREFIX_HEAD}{stage}"


def stage_of(prefix: str) -> str:
    """The stage a resource prefix belongs to (``sluice-prod`` → ``prod``; any other prefix names itself)."""
    return prefix[len(STAGE_PREFIX_HEAD):] if prefix.startswith(STAGE_PREFIX_HEAD) else prefix


@lru_cache(maxsize=4096)  # called per captured feature on the predict path
def capture_field(feature: str) -> str:
    """A feature's field name in captured records: lower-case letters, digits and "_" (what Glue and Athena
    allow in a struct's field names; Firehose's Parquet conversion lower-cases them anyway)."""
    return re.sub(r"[^a-z0-9_]", "_", feature.lower())


@dataclass(frozen=True)
class ResourceNames:
    """Deterministic names for resources that handlers look up by model.

    Buckets and tables are passed to functions through the environment (on AWS their
    names are generated); the names below are the ones a handler must derive itself.
    """

    prefix: str = "sluice"

    def predict_function(self, model: str) -> str:
        return f"{self.prefix}-predict-{model}"

    def shared_function(self, function: str) -> str:
        """The physical name of a shared (not per-model) function: ``<prefix>-score-part`` for score_part."""
        return f"{self.prefix}-{function.replace('_', '-')}"

    def state_machine(self, kind: str) -> str:
        """A state machine of the stage (sluice.wiring.state_machines): ``<prefix>-<kind>``."""
        return f"{self.prefix}-{kind}"

    def endpoint_alarm(self, model: str, kind: str) -> str:
        return f"{self.prefix}-{model}-{kind}"

    @property
    def endpoint_alarm_prefix(self) -> str:
        return f"{self.prefix}-"

    def retrain_rule(self, model: str) -> str:
        return f"{self.prefix}-retrain-{model}"

    def schedule_rule(self, kind: str, model: str) -> str:
        """A per-model schedule rule: ``<prefix>-<kind>-<model>`` (kind: retrain, drift)."""
        return f"{self.prefix}-{kind}-{model}"

    def model_of_schedule_rule(self, kind: str, rule_name: str) -> str | None:
        head = f"{self.prefix}-{kind}-"
        return rule_name[len(head) :] if rule_name.startswith(head) else None

    def training_job_role(self, model: str) -> str:
        """The role a model's SageMaker jobs run as (its data and artifact prefixes only)."""
        return f"{self.prefix}-{model}-train-job"

    @property
    def validation_job_role(self) -> str:
        """The role the stage's validation processing jobs run as (incoming/ read, validation/ write)."""
        return f"{self.prefix}-validate-job"

    def job_prefix(self, kind: str) -> str:
        """Every SageMaker job name of this deployment and kind (train, validate) starts so."""
        return f"{self.prefix}-{kind}-"

    def capture_stream(self, model: str) -> str:
        """The Firehose delivery stream of a model's captured predictions."""
        return f"{self.prefix}-capture-{model}"

    def model_of_retrain_rule(self, rule_name: str) -> str | None:
        head = f"{self.prefix}-retrain-"
        return rule_name[len(head) :] if rule_name.startswith(head) else None

    def model_of_alarm(self, alarm_name: str, models: tuple[str, ...]) -> str | None:
        """The model an endpoint alarm belongs to (longest matching model name wins)."""
        for model in sorted(models, key=len, reverse=True):
            if alarm_name.startswith(f"{self.prefix}-{model}-"):
                return model
        return None

    def per_model_names(self, model: str) -> list[tuple[str, str]]:
        """Every name derived from ``model`` with the kind of resource it names (its limit in NAME_LIMITS)."""
        names = [("Lambda function name", self.predict_function(model)),
                 ("Firehose stream name", self.capture_stream(model)),
                 ("CloudWatch alarm name", self.endpoint_alarm(model, "prediction-shift")),
                 ("IAM role name", self.training_job_role(model))]
        return names + [("EventBridge rule name", self.schedule_rule(kind, model)) for kind in SCHEDULE_KINDS]

    def name_too_long(self, model: str) -> str | None:
        """Which AWS name limit ``model`` breaks in this deployment, or None."""
        for kind, name in self.per_model_names(model):
            if len(name) > NAME_LIMITS[kind]:
                return (f"the {kind} {name!r} would be {len(name)} characters; AWS allows {NAME_LIMITS[kind]} "
                        f"(shorten the model name to at most {len(model) - len(name) + NAME_LIMITS[kind]})")
        return None

    # Local defaults (the embedded runtime uses fixed names).
    @property
    def data_bucket(self) -> str:
        return f"{self.prefix}-data"

    @property
    def artifact_bucket(self) -> str:
        return f"{self.prefix}-artifacts"

    @property
    def registry_table(self) -> str:
        return f"{self.prefix}-registry"

    @property
    def idempotency_table(self) -> str:
        return f"{self.prefix}-idempotency"

    @property
    def event_bus(self) -> str:
        return f"{self.prefix}-events"

    @property
    def notifications_topic(self) -> str:
        return f"{self.prefix}-notifications"

    def deployment_check_rule(self) -> str:
        return f"{self.prefix}-deployment-check"

    @staticmethod
    def local_topic_arn(topic: str) -> str:
        return f"arn:aws:sns:us-east-1:123456789012:{topic}"
