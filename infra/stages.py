"""Deployment stages (dev, prod) and what differs between them."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs


class StageError(ValueError):
    """An unknown stage was requested."""


@dataclass(frozen=True)
class Stage:
    """One deployment of sluice; its name prefixes every resource it owns."""

    name: str
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy  # for disposable resources (logs, idempotency, queues)

    @property
    def prefix(self) -> str:
        """The resource prefix handed to ``ResourceNames`` and ``SLUICE_PREFIX``."""
        return f"sluice-{self.name}"

    @property
    def stack_name(self) -> str:
        return f"Sluice-{self.name}"


STAGES: dict[str, Stage] = {
    "dev": Stage("dev", logs.RetentionDays.ONE_MONTH, RemovalPolicy.DESTROY),
    "prod": Stage("prod", logs.RetentionDays.ONE_YEAR, RemovalPolicy.RETAIN),
}


def stage_named(name: str) -> Stage:
    """The stage called ``name`` (from ``-c stage=...``)."""
    try:
        return STAGES[name]
    except KeyError:
        raise StageError(f"unknown stage {name!r}; choose one of: {', '.join(STAGES)}") from None
