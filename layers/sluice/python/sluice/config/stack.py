"""``[stack]``: settings of the whole deployment (not of one model), read strictly."""

from __future__ import annotations

from dataclasses import dataclass

from sluice.config.reader import Table


@dataclass(frozen=True)
class StackSettings:
    """How the stage is wired and what it reserves; the defaults deploy on an account at the default quota (10)."""

    buffer_drops: bool = False
    """Drops reach validate_dataset through an SQS queue (bucket → EventBridge → SQS → validate_dataset, batches
    with partial failure) instead of an EventBridge rule invoking it directly: for bursts of uploads."""
    rollback_reserved_concurrency: int = 0
    """Concurrency reserved for rollback_model so a traffic flood cannot starve the rollback it needs; 0 reserves
    nothing (Lambda keeps 100 of the account's quota unreserved, so any reserve needs a quota above 100)."""


def parse_stack(body: Table) -> StackSettings:
    """Read ``[stack]`` (absent: the defaults)."""
    settings = StackSettings(
        buffer_drops=body.boolean("buffer_drops", False),
        rollback_reserved_concurrency=body.integer("rollback_reserved_concurrency", 0, minimum=0),
    )
    body.finish()
    return settings
