"""Runtime settings every handler reads from its environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sluice.naming import ResourceNames, stage_of


class SettingsError(RuntimeError):
    """A required environment variable is missing."""


ENV_PREFIX = "SLUICE_PREFIX"
ENV_DATA_BUCKET = "SLUICE_DATA_BUCKET"
ENV_ARTIFACT_BUCKET = "SLUICE_ARTIFACT_BUCKET"
ENV_REGISTRY_TABLE = "SLUICE_REGISTRY_TABLE"
ENV_IDEMPOTENCY_TABLE = "SLUICE_IDEMPOTENCY_TABLE"
ENV_EVENT_BUS = "SLUICE_EVENT_BUS"
ENV_CODE_VERSION = "SLUICE_CODE_VERSION"
ENV_NOTIFICATIONS_TOPIC = "SLUICE_NOTIFICATIONS_TOPIC"


@dataclass(frozen=True)
class Settings:
    """Where this deployment keeps its state."""

    prefix: str
    data_bucket: str
    artifact_bucket: str
    registry_table: str
    idempotency_table: str
    event_bus: str
    code_version: str
    notifications_topic: str = ""
    """SNS topic ARN for release and rollback notifications (none: notifications are skipped)."""

    @property
    def names(self) -> ResourceNames:
        return ResourceNames(self.prefix)

    @property
    def stage(self) -> str:
        """The stage this deployment is (``sluice-prod`` → ``prod``): the key of its ``[stages.<name>]`` table."""
        return stage_of(self.prefix)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def required(key: str) -> str:
            value = env.get(key)
            if not value:
                raise SettingsError(f"environment variable {key} is not set")
            return value

        from sluice import __version__

        return cls(
            prefix=env.get(ENV_PREFIX, "sluice"),
            data_bucket=required(ENV_DATA_BUCKET),
            artifact_bucket=required(ENV_ARTIFACT_BUCKET),
            registry_table=required(ENV_REGISTRY_TABLE),
            idempotency_table=required(ENV_IDEMPOTENCY_TABLE),
            event_bus=required(ENV_EVENT_BUS),
            code_version=env.get(ENV_CODE_VERSION, __version__),
            notifications_topic=env.get(ENV_NOTIFICATIONS_TOPIC, ""),
        )

    @classmethod
    def local(cls, prefix: str = "sluice") -> Settings:
        """Settings for the embedded local AWS, where names are fixed."""
        from sluice import __version__

        names = ResourceNames(prefix)
        return cls(
            prefix=prefix,
            data_bucket=names.data_bucket,
            artifact_bucket=names.artifact_bucket,
            registry_table=names.registry_table,
            idempotency_table=names.idempotency_table,
            event_bus=names.event_bus,
            code_version=__version__,
            notifications_topic=names.local_topic_arn(names.notifications_topic),
        )

    def to_env(self) -> dict[str, str]:
        return {
            ENV_PREFIX: self.prefix,
            ENV_DATA_BUCKET: self.data_bucket,
            ENV_ARTIFACT_BUCKET: self.artifact_bucket,
            ENV_REGISTRY_TABLE: self.registry_table,
            ENV_IDEMPOTENCY_TABLE: self.idempotency_table,
            ENV_EVENT_BUS: self.event_bus,
            ENV_CODE_VERSION: self.code_version,
            **({ENV_NOTIFICATIONS_TOPIC: self.notifications_topic} if self.notifications_topic else {}),
        }
