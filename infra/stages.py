"""Deployment stages (dev, prod) and what differs between them."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from sluice.naming import THROWAWAY_STAGE_PATTERN, stage_prefix


class StageError(ValueError):
    """An unknown stage was requested."""


@dataclass(frozen=True)
class Retention:
    """How long derived data is kept (days) before S3 lifecycle rules expire it.

    Raw drops (incoming/) and accepted data are never expired: they are the lineage of every model. Raw drops move
    to Glacier Instant Retrieval (still readable at once) after ``raw_archive_days``.
    """

    captures_days: int
    reports_days: int  # drift/ and quality/ reports
    rejected_days: int  # quarantined copies of rejected drops and their reports
    noncurrent_days: int  # overwritten or deleted object versions, every prefix
    incomplete_upload_days: int = 7
    staging_days: int = 7  # scoring-parts/ and validation/: intermediate copies, consumed within a run
    raw_archive_days: int = 90


@dataclass(frozen=True)
class Stage:
    """One deployment of sluice; its name prefixes every resource it owns."""

    name: str
    log_retention: logs.RetentionDays
    removal_policy: RemovalPolicy  # for disposable resources (logs, idempotency, queues)
    retention: Retention

    @property
    def prefix(self) -> str:
        """The resource prefix handed to ``ResourceNames`` and ``SLUICE_PREFIX``."""
        return stage_prefix(self.name)

    @property
    def stack_name(self) -> str:
        return f"Sluice-{self.name}"


STAGES: dict[str, Stage] = {
    "dev": Stage("dev", logs.RetentionDays.ONE_MONTH, RemovalPolicy.DESTROY,
                 Retention(captures_days=30, reports_days=90, rejected_days=30, noncurrent_days=7)),
    "prod": Stage("prod", logs.RetentionDays.ONE_YEAR, RemovalPolicy.RETAIN,
                  Retention(captures_days=90, reports_days=400, rejected_days=180, noncurrent_days=30)),
}


def stage_named(name: str) -> Stage:
    """The stage called ``name`` (from ``-c stage=...``); a throwaway name (``x`` + 3 characters, the smoke
    test's) is a copy of dev under that name."""
    if name in STAGES:
        return STAGES[name]
    if re.match(THROWAWAY_STAGE_PATTERN, name):
        return replace(STAGES["dev"], name=name)
    raise StageError(f"unknown stage {name!r}; choose one of: {', '.join(STAGES)}, "
                     "or a throwaway x + 3 lower-case letters or digits") from None
