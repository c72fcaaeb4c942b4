"""The sluice stack: one deployable unit per stage, assembled from the constructs in infra/components."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.assets import BuildInputs
from infra.components.bus import EventBusWithArchive
from infra.components.endpoint import Endpoints
from infra.components.functions import Functions
from infra.components.monitoring import CaptureStreams, Dashboards
from infra.components.releases import Notifications, ReleaseAlarms
from infra.components.state import StateTables
from infra.components.storage import Storage
from infra.components.wiring import Wiring, WiringError
from infra.stages import Stage
from sluice import __version__
from sluice.config import ProjectConfig
from sluice.naming import ResourceNames
from sluice.settings import Settings
from sluice.wiring import PatternContext
from sluice.wiring.alarms import stage_alarms
from sluice.wiring.functions import reserved_concurrency


class SluiceStack(Stack):
    """Buckets, tables, the bus, every function, the endpoints and the wiring of one stage."""

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
            capture_rates={name: model.monitoring.capture_rate for name, model in config.models.items()},
            endpoint_packages={name: model.deployment.endpoint_package for name, model in config.models.items()},
            reserved_concurrency=reserved_concurrency(config, reserve_training=reserve_concurrency),
        )
        self.captures = CaptureStreams(self, "Captures", config=config, names=self.names,
                                       data_bucket=self.storage.data_bucket)
        self.dashboards = Dashboards(self, "Dashboards", config=config, names=self.names)
        self.alarms = stage_alarms(config, self.names)
        self.endpoints = Endpoints(
            self,
            "Endpoints",
            functions=self.functions.predict,
            names=self.names,
            log_retention=stage.log_retention,
            removal_policy=stage.removal_policy,
            alarms={model: self.alarms.of_model(model) for model in config.models},
        )
        self.release_alarms = ReleaseAlarms(self, "ReleaseAlarms", alarms=self.alarms, endpoints=self.endpoints,
                                            topic=self.notifications.topic)
        for function in ("deploy_model", "rollback_model"):
            self.notifications.grant_publish(self.functions.by_name[function])
        self.pattern_context = PatternContext(data_bucket=self.storage.data_bucket.bucket_name, names=self.names)
        self.wiring = Wiring(
            self,
            "Wiring",
            config=config,
            context=self.pattern_context,
            bus=self.events.bus,
            function=self._route_target,
            removal_policy=stage.removal_policy,
            topic=self.notifications.topic,  # a parked event is seen before SQS drops it (14 days)
        )
        Tags.of(self).add("project", "sluice")
        Tags.of(self).add("stage", stage.name)

    def _route_target(self, function: str) -> lambda_.IFunction:
        try:
            return self.functions.by_name[function]
        except KeyError:
            raise WiringError(f"a route targets {function!r}, which is not a shared (non per-model) function") from None
