"""The declared state machine of model versions."""

from __future__ import annotations

from sluice.registry.entities import Status
from sluice.registry.errors import IllegalTransitionError

ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.TRAINING: frozenset({Status.CANDIDATE, Status.FAILED}),
    Status.CANDIDATE: frozenset({Status.APPROVED, Status.REJECTED}),
    Status.APPROVED: frozenset({Status.CANARY, Status.LIVE, Status.RETIRED, Status.PENDING_APPROVAL}),
    # a human's decision: approved (released next), rejected, or retired (expired or superseded)
    Status.PENDING_APPROVAL: frozenset({Status.APPROVED, Status.REJECTED, Status.RETIRED}),
    Status.CANARY: frozenset({Status.LIVE, Status.ROLLED_BACK, Status.REJECTED}),
    Status.LIVE: frozenset({Status.PREVIOUS, Status.ROLLED_BACK}),
    Status.PREVIOUS: frozenset({Status.LIVE, Status.RETIRED}),
    Status.FAILED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.ROLLED_BACK: frozenset({Status.RETIRED}),
    Status.RETIRED: frozenset(),
}


def check_transition(current: Status, target: Status) -> None:
    """Raise IllegalTransitionError unless ``current → target`` is declared."""
    if target not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(status.value for status in ALLOWED_TRANSITIONS[current])) or "nothing"
        raise IllegalTransitionError(
            f"{current.value} → {target.value} is not allowed (from {current.value}: {allowed})")
