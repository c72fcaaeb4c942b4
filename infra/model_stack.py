"""A model stack: the per-model resources of one model group, as a nested stack of the stage's stack.

Per model: the predict function (role, policy, logs), the role of its SageMaker training jobs (when its training
may run there), its endpoint (alias ``live``, Function URL, alarms), the
release alarms, the capture stream (Glue table, delivery role, Firehose stream), the dashboard and the schedule
rules. The group of a model is ``sluice.config.layout.model_group`` (stable under adding and removing models).

The stage's resources arrive as named parameters (``STAGE_PARAMETERS``), the same for every model stack, so the
templates and cdk-nag's findings name them plainly and their number does not grow with the models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import CfnParameter, NestedStack, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.assets import BuildInputs
from infra.components.endpoint import Endpoints
from infra.components.functions import Functions, ZipLayers
from infra.components.monitoring import CaptureStreams, Dashboards
from infra.components.releases import ReleaseAlarms
from infra.components.training_jobs import TrainingJobRoles, sagemaker_models
from infra.components.wiring import ScheduleRules
from sluice import __version__
from sluice.config import ProjectConfig
from sluice.naming import ResourceNames
from sluice.settings import Settings
from sluice.wiring import FUNCTIONS, ROUTES, PatternContext, ScheduleTrigger
from sluice.wiring.alarms import stage_alarms
from sluice.wiring.functions import reserved_concurrency

PER_MODEL_FUNCTIONS = {name: spec for name, spec in FUNCTIONS.items() if spec.per_model}
SCHEDULED_FUNCTIONS = tuple(dict.fromkeys(route.function for route in ROUTES
                                          if isinstance(route.trigger, ScheduleTrigger)))


def _camel(name: str) -> str:
    return "".join(word.capitalize() for word in name.replace("_", "-").split("-"))


STAGE_PARAMETERS = (
    "DataBucketName", "DataBucketArn", "ArtifactBucketName", "ArtifactBucketArn",
    "RegistryTableName", "RegistryTableArn", "IdempotencyTableName", "EventBusName", "TopicArn",
    "SluiceLayerArn", "ServingDepsLayerArn",
    *(f"{_camel(function)}Arn" for function in SCHEDULED_FUNCTIONS),
    *(f"{_camel(function)}DeadLettersArn" for function in SCHEDULED_FUNCTIONS),
)
"""Every parameter of a model stack (CloudFormation allows 200 per stack)."""


@dataclass(frozen=True)
class StageInputs:
    """What every model stack takes from the stage besides the parameters."""

    names: ResourceNames
    inputs: BuildInputs
    layer_sizes: dict[str, int]
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy
    reserve_concurrency: bool


class ModelStack(NestedStack):
    """The per-model resources of ``config``'s models (one model group)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: ProjectConfig, stage: StageInputs,
                 parameters: Mapping[str, str]) -> None:
        missing = sorted(set(STAGE_PARAMETERS) - set(parameters))
        if missing:
            raise ValueError(f"model stack {construct_id}: parameters missing: {missing}")
        used = parameters_used(config)
        super().__init__(scope, construct_id, parameters={name: parameters[name] for name in used},
                         description=f"sluice {stage.names.prefix}: {len(config.names)} models of model stack "
                                     f"{construct_id} (sluice.config.layout)")
        value = {name: CfnParameter(self, name, type="String").value_as_string for name in used}
        names = stage.names
        data_bucket = s3.Bucket.from_bucket_attributes(self, "DataBucket", bucket_arn=value["DataBucketArn"],
                                                       bucket_name=value["DataBucketName"])
        artifact_bucket = s3.Bucket.from_bucket_attributes(
            self, "ArtifactBucket", bucket_arn=value["ArtifactBucketArn"], bucket_name=value["ArtifactBucketName"])
        settings = Settings(prefix=names.prefix, data_bucket=value["DataBucketName"],
                            artifact_bucket=value["ArtifactBucketName"], registry_table=value["RegistryTableName"],
                            idempotency_table=value["IdempotencyTableName"], event_bus=value["EventBusName"],
                            code_version=__version__, notifications_topic=value["TopicArn"])
        layers = ZipLayers(versions=tuple(lambda_.LayerVersion.from_layer_version_arn(self, f"{name}Layer",
                                                                                        value[f"{name}LayerArn"])
                                          for name in ("Sluice", "ServingDeps")), sizes=stage.layer_sizes)
        self.functions = Functions(
            self, "Functions", names=names, settings=settings, models=config.names, inputs=stage.inputs,
            data_bucket=data_bucket, artifact_bucket=artifact_bucket,
            registry_table=dynamodb.Table.from_table_arn(self, "Registry", value["RegistryTableArn"]),
            # predict is not event-triggered: it is granted neither the idempotency table nor the bus
            idempotency_table=dynamodb.Table.from_table_name(self, "Idempotency", value["IdempotencyTableName"]),
            bus=events.EventBus.from_event_bus_name(self, "Bus", value["EventBusName"]),
            log_retention=stage.log_retention, removal_policy=stage.removal_policy, specs=PER_MODEL_FUNCTIONS,
            capture_rates={name: model.monitoring.capture_rate for name, model in config.models.items()},
            endpoint_packages={name: model.deployment.endpoint_package for name, model in config.models.items()},
            reserved_concurrency=reserved_concurrency(config, reserve_training=stage.reserve_concurrency),
            layers=layers, traced_models=[name for name, model in config.models.items() if model.serving.trace],
        )
        self.data_bucket, self.artifact_bucket = data_bucket, artifact_bucket
        self.job_roles = TrainingJobRoles(self, "TrainingJobs", models=sagemaker_models(config), names=names,
                                          inputs=stage.inputs, data_bucket=data_bucket,
                                          artifact_bucket=artifact_bucket)
        self.captures = CaptureStreams(self, "Captures", config=config, names=names, data_bucket=data_bucket)
        self.dashboards = Dashboards(self, "Dashboards", config=config, names=names)
        self.alarms = stage_alarms(config, names)
        self.endpoints = Endpoints(self, "Endpoints", functions=self.functions.predict, names=names,
                                   log_retention=stage.log_retention, removal_policy=stage.removal_policy,
                                   alarms={model: self.alarms.of_model(model) for model in config.models})
        self.release_alarms = ReleaseAlarms(self, "ReleaseAlarms", alarms=self.alarms, endpoints=self.endpoints,
                                            topic=sns.Topic.from_topic_arn(self, "Topic", value["TopicArn"]))
        self.schedules = ScheduleRules(
            self, "Schedules", config=config,
            context=PatternContext(data_bucket=value["DataBucketName"], names=names),
            function_arn=lambda function: value[f"{_camel(function)}Arn"],
            dead_letter_queue_arn=lambda function: value[f"{_camel(function)}DeadLettersArn"],
        )


def parameters_used(config: ProjectConfig) -> tuple[str, ...]:
    """The parameters a model stack of ``config``'s models declares: a scheduled function's only if one of its
    models has that schedule (CloudFormation warns on an unused parameter)."""
    scheduled = {route.function for route in ROUTES if isinstance(route.trigger, ScheduleTrigger)
                 for model in config.models.values() if route.trigger.expression(model)}
    unused = {f"{_camel(function)}{suffix}" for function in SCHEDULED_FUNCTIONS if function not in scheduled
              for suffix in ("Arn", "DeadLettersArn")}
    return tuple(name for name in STAGE_PARAMETERS if name not in unused)


def stage_parameters(*, data_bucket: s3.IBucket, artifact_bucket: s3.IBucket, registry_table: dynamodb.ITable,
                     idempotency_table: dynamodb.ITable, bus: events.IEventBus, topic: sns.ITopic,
                     layers: ZipLayers, functions: Mapping[str, lambda_.IFunction],
                     dead_letter_queues: Mapping[str, sqs.IQueue]) -> dict[str, str]:
    """The values of ``STAGE_PARAMETERS`` in the stage's stack."""
    sluice_layer, serving_deps = layers.versions
    parameters = {
        "DataBucketName": data_bucket.bucket_name, "DataBucketArn": data_bucket.bucket_arn,
        "ArtifactBucketName": artifact_bucket.bucket_name, "ArtifactBucketArn": artifact_bucket.bucket_arn,
        "RegistryTableName": registry_table.table_name, "RegistryTableArn": registry_table.table_arn,
        "IdempotencyTableName": idempotency_table.table_name, "EventBusName": bus.event_bus_name,
        "TopicArn": topic.topic_arn,
        "SluiceLayerArn": sluice_layer.layer_version_arn, "ServingDepsLayerArn": serving_deps.layer_version_arn,
    }
    for function in SCHEDULED_FUNCTIONS:
        parameters[f"{_camel(function)}Arn"] = functions[function].function_arn
        parameters[f"{_camel(function)}DeadLettersArn"] = dead_letter_queues[function].queue_arn
    return parameters
