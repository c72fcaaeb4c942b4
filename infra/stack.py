"""The sluice stack of one stage: the shared resources, and a nested model stack per model group."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.assets import BuildInputs
from infra.components.bus import EventBusWithArchive
from infra.components.functions import Functions
from infra.components.monitoring import CaptureDatabase
from infra.components.releases import Notifications
from infra.components.scoring import StateMachines
from infra.components.state import StateTables
from infra.components.storage import Storage
from infra.components.training_jobs import grant_job_launch, sagemaker_models
from infra.components.validation_jobs import ValidationJobs, validates_on_sagemaker
from infra.components.wiring import Wiring, WiringError
from infra.model_stack import ModelStack, StageInputs, stage_parameters
from infra.stages import Stage
from sluice import __version__
from sluice.config import ProjectConfig
from sluice.config.layout import model_groups
from sluice.naming import ResourceNames
from sluice.scoring.jobs import STATE_MACHINE_ENV
from sluice.settings import Settings
from sluice.wiring import FUNCTIONS, PatternContext, routes_in_use
from sluice.wiring.functions import reserved_concurrency
from sluice.wiring.queues import buffered_routes
from sluice.wiring.state_machines import SCORE_PARTS

SHARED_FUNCTIONS = {name: spec for name, spec in FUNCTIONS.items() if not spec.per_model}


class SluiceStack(Stack):
    """Buckets, tables, the bus, the shared functions and their wiring; ``model_stacks`` hold the models.

    Nothing here grows with the number of models but one nested stack per model group and one output per
    endpoint (sluice.config.layout; tests/infra/test_limits.py checks AWS's limits at 1, 20 and 100 models).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        config: ProjectConfig,
        inputs: BuildInputs,
        reserve_concurrency: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope, construct_id, description=f"sluice {stage.name}: event-driven serverless MLOps", **kwargs
        )
        self.stage = stage
        self.config = config
        self.names = ResourceNames(stage.prefix)
        self.storage = Storage(self, "Storage", access_log_retention=Duration.days(90),
                               retention=stage.retention)
        self.state = StateTables(self, "State", removal_policy=stage.removal_policy)
        self.events = EventBusWithArchive(
            self, "Events", bus_name=self.names.event_bus, archive_retention=Duration.days(90)
        )
        self.notifications = Notifications(self, "Notifications", topic_name=self.names.notifications_topic,
                                           removal_policy=stage.removal_policy)
        self.settings = Settings(
            prefix=self.names.prefix,
            data_bucket=self.storage.data_bucket.bucket_name,
            artifact_bucket=self.storage.artifact_bucket.bucket_name,
            registry_table=self.state.registry_table.table_name,
            idempotency_table=self.state.idempotency_table.table_name,
            event_bus=self.events.bus.event_bus_name,
            code_version=__version__,
            notifications_topic=self.notifications.topic.topic_arn,
        )
        self.functions = Functions(
            self,
            "Functions",
            names=self.names,
            settings=self.settings,
            models=config.names,
            inputs=inputs,
            data_bucket=self.storage.data_bucket,
            artifact_bucket=self.storage.artifact_bucket,
            registry_table=self.state.registry_table,
            idempotency_table=self.state.idempotency_table,
            bus=self.events.bus,
            log_retention=stage.log_retention,
            removal_policy=stage.removal_policy,
            specs=SHARED_FUNCTIONS,
            reserved_concurrency=reserved_concurrency(config, reserve_training=reserve_concurrency),
            traced_models=[name for name, model in config.models.items() if model.serving.trace],
        )
        for function in ("deploy_model", "rollback_model"):
            self.notifications.grant_publish(self.functions.by_name[function])
        self.state_machines = StateMachines(self, "StateMachines", names=self.names, functions=self.functions.by_name,
                                            log_retention=stage.log_retention, removal_policy=stage.removal_policy)
        scoring = self.state_machines.by_kind[SCORE_PARTS.kind]
        scoring.grant_start_execution(self.functions.by_name["score_batch"])
        scoring.grant_execution(self.functions.by_name["score_batch"], "states:DescribeExecution")  # redrive
        self.functions.by_name["score_batch"].add_environment(STATE_MACHINE_ENV, scoring.state_machine_arn)
        self.training_jobs_arn = (grant_job_launch(self.functions.by_name["train_model"], names=self.names,
                                                   inputs=inputs) if sagemaker_models(config) else None)
        self.validation_jobs = (ValidationJobs(self, "ValidationJobs", names=self.names, inputs=inputs,
                                               data_bucket=self.storage.data_bucket,
                                               validate=self.functions.by_name["validate_dataset"])
                                if validates_on_sagemaker(config) else None)
        self.capture_database = CaptureDatabase(self, "Captures", names=self.names)
        self.pattern_context = PatternContext(data_bucket=self.storage.data_bucket.bucket_name, names=self.names)
        self.wiring = Wiring(
            self,
            "Wiring",
            context=self.pattern_context,
            bus=self.events.bus,
            function=self._route_target,
            removal_policy=stage.removal_policy,
            topic=self.notifications.topic,  # a parked event is seen before SQS drops it (14 days)
            buffered=buffered_routes(config),
            routes=routes_in_use(config),
        )
        self.model_stacks = self._model_stacks(config, inputs, reserve_concurrency=reserve_concurrency)
        Tags.of(self).add("project", "sluice")
        Tags.of(self).add("stage", stage.name)

    def _model_stacks(self, config: ProjectConfig, inputs: BuildInputs, *, reserve_concurrency: bool
                      ) -> dict[int, ModelStack]:
        stage = StageInputs(names=self.names, inputs=inputs, layer_sizes=self.functions.zip_layers.sizes,
                            log_retention=self.stage.log_retention, removal_policy=self.stage.removal_policy,
                            reserve_concurrency=reserve_concurrency)
        parameters = stage_parameters(
            data_bucket=self.storage.data_bucket, artifact_bucket=self.storage.artifact_bucket,
            registry_table=self.state.registry_table, idempotency_table=self.state.idempotency_table,
            bus=self.events.bus, topic=self.notifications.topic, layers=self.functions.zip_layers,
            functions=self.functions.by_name, dead_letter_queues=self.wiring.dead_letter_queues)
        stacks: dict[int, ModelStack] = {}
        for group, models in model_groups(config.names).items():
            subset = ProjectConfig(models={name: config.models[name] for name in models})
            stack = ModelStack(self, f"Models{group:02d}", config=subset, stage=stage, parameters=parameters)
            stack.node.add_dependency(self.capture_database)  # the Glue tables live in the stage's database
            for model, endpoint in stack.endpoints.by_model.items():
                CfnOutput(self, f"{_camel(model)}Endpoint", value=endpoint.url.attr_function_url,
                          description=f"Predict endpoint of {model} (alias live, IAM auth)")
            stacks[group] = stack
        return stacks

    def model_stack_of(self, model: str) -> ModelStack:
        """The nested stack that holds ``model``."""
        for stack in self.model_stacks.values():
            if model in stack.endpoints.by_model:
                return stack
        raise KeyError(f"no model stack holds {model!r}")

    def _route_target(self, function: str) -> lambda_.IFunction:
        try:
            return self.functions.by_name[function]
        except KeyError:
            raise WiringError(f"a route targets {function!r}, which is not a shared (non per-model) function") from None


def _camel(model: str) -> str:
    return "".join(word.capitalize() for word in model.split("-"))
