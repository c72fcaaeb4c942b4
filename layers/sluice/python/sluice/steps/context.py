"""Everything a step needs, built once per container from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3

from sluice.clock import Clock, system_clock
from sluice.config import ProjectConfig, load_config
from sluice.deployment import CloudWatchVariantMetrics, VariantMetrics
from sluice.events import EventPublisher
from sluice.notifications import Notifier
from sluice.registry import DynamoDBRegistry, RegistryStore
from sluice.settings import Settings
from sluice.storage import ObjectStore


@dataclass(frozen=True)
class StepContext:
    """Clients and settings of one deployment."""

    settings: Settings
    config: ProjectConfig
    data: ObjectStore
    artifacts: ObjectStore
    registry: RegistryStore
    events: EventPublisher
    clock: Clock = system_clock

    # Clients only the release and rollback steps use: created on first use, so the cold start of the other
    # functions does not load their service models.
    @cached_property
    def lambda_client(self) -> Any:
        return boto3.client("lambda")

    @cached_property
    def sagemaker(self) -> Any:
        """SageMaker (train_model with ``training.backend`` sagemaker or auto)."""
        return boto3.client("sagemaker")

    @cached_property
    def notifier(self) -> Notifier | None:
        return Notifier(boto3.client("sns"), self.settings.notifications_topic)

    @cached_property
    def metrics(self) -> VariantMetrics | None:
        """Per-version metrics of releases in progress (CloudWatch)."""
        return CloudWatchVariantMetrics(boto3.client("cloudwatch"))

    @classmethod
    def from_env(cls, *, clock: Clock = system_clock) -> StepContext:
        settings = Settings.from_env()
        s3 = boto3.client("s3")
        return cls(
            settings=settings,
            config=load_config(),
            data=ObjectStore(s3, settings.data_bucket),
            artifacts=ObjectStore(s3, settings.artifact_bucket),
            registry=DynamoDBRegistry(boto3.client("dynamodb"), settings.registry_table, clock=clock),
            events=EventPublisher(boto3.client("events"), settings.event_bus),
            clock=clock,
        )
