"""What a scheduled check does with a release in progress: wait, extend, advance, promote, conclude or abort."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sluice.deployment.verdict import Health, Verdict

MAX_EXTENSIONS = 6
"""Checks that may find too little traffic before the release is aborted (the candidate stays unproven)."""


class Action(StrEnum):
    WAIT = "wait"  # the stage is not over yet
    EXTEND = "extend"  # too little traffic: hold the stage another period
    ADVANCE = "advance"  # next stage (linear)
    PROMOTE = "promote"
    CONCLUDE = "conclude"  # A/B: decide the winner
    ABORT = "abort"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str


def decide(*, strategy: str, stage: int, stages: int, due: bool, verdict: Verdict | None,
           extensions: int) -> Decision:
    """Pure: the next move of a release given where it is and what the check measured."""
    if not due or verdict is None:
        return Decision(Action.WAIT, "the stage is still baking")
    if verdict.health is Health.UNHEALTHY:
        return Decision(Action.ABORT, verdict.summary)
    if verdict.health is Health.INCONCLUSIVE:
        if extensions >= MAX_EXTENSIONS:
            return Decision(Action.ABORT, f"{verdict.summary} after {extensions} extensions")
        return Decision(Action.EXTEND, verdict.summary)
    if stage + 1 < stages:
        return Decision(Action.ADVANCE, verdict.summary)
    if strategy == "ab":
        return Decision(Action.CONCLUDE, verdict.summary)
    return Decision(Action.PROMOTE, verdict.summary)
