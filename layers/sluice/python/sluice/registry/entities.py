"""Small entity objects of the registry (MLflow-style: versions and aliases, no stages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Lifecycle of a model version."""

    TRAINING = "training"
    CANDIDATE = "candidate"
    FAILED = "failed"
    APPROVED = "approved"
    PENDING_APPROVAL = "pending_approval"  # approved by the gate, waiting for a human (deployment.approval)
    REJECTED = "rejected"
    CANARY = "canary"  # a release in progress (canary, linear, A/B or shadow)
    LIVE = "live"
    PREVIOUS = "previous"
    ROLLED_BACK = "rolled_back"
    RETIRED = "retired"


@dataclass(frozen=True)
class ModelVersion:
    """One trained version of a model and everything needed to trust it."""

    model: str
    version: int
    status: Status
    data_version: str
    code_version: str
    created_at: str
    updated_at: str
    family: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    cv: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    live_metrics: dict[str, float] = field(default_factory=dict)
    gate_reasons: tuple[str, ...] = ()
    artifact_prefix: str = ""
    artifact_sha256: str = ""
    pipeline_sha256: str = ""
    serving: str = "onnx"
    lineage: dict[str, Any] = field(default_factory=dict)
    lambda_version: str = ""
    replaced_version: int | None = None
    approval: dict[str, Any] = field(default_factory=dict)
    """The manual approval: requested_at, expires_at, and once decided decision, actor, reason, decided_at."""

    @property
    def label(self) -> str:
        return f"{self.model} v{self.version}"


@dataclass(frozen=True)
class AliasPointer:
    """An alias (``live``, ``previous``) pointing at a model version."""

    model: str
    name: str
    version: int
    lambda_version: str
    revision: int
    updated_at: str


@dataclass(frozen=True)
class EndpointChange:
    """When traffic last moved for a model, and whether it moved back (a rollback or an aborted release)."""

    at: str
    rolled_back: bool = False


@dataclass(frozen=True)
class AuditEntry:
    """One status change or alias move, with what caused it."""

    model: str
    at: str
    subject: str
    change: str
    reason: str
    actor: str
    correlation_id: str
    trigger: str = ""
    """The event that caused the change: its detail-type and id."""


@dataclass(frozen=True)
class Deployment:
    """The release in progress of one model (at most one; it doubles as the model's deployment lock)."""

    model: str
    version: int
    strategy: str
    stage: int
    stages: int
    weight: float
    """The candidate's share of live traffic now (0 while shadowing)."""
    started_at: str
    stage_started_at: str
    next_check_at: str
    candidate_lambda_version: str
    live_version: int
    live_lambda_version: str
    correlation_id: str
    revision: int = 1
    extensions: int = 0
    """How often a check found too little traffic and waited another step."""

    @property
    def label(self) -> str:
        return f"{self.strategy} of {self.model} v{self.version}"


@dataclass(frozen=True)
class QueuedDeployment:
    """An approved version waiting for the model's release in progress to finish."""

    model: str
    version: int
    correlation_id: str
    queued_at: str


@dataclass(frozen=True)
class DatasetRecord:
    """An accepted data version and the raw drops it came from."""

    model: str
    data_version: str
    rows: int
    data_key: str
    sources: tuple[str, ...]
    accepted_at: str
    contract_version: str = ""
    """A hash of the data contract the data was accepted under (see sluice.data.contract_version)."""
    origin: str = "drop"
    """Where the rows came from: ``drop`` (a file under incoming/) or ``feedback`` (labelled captured traffic)."""


@dataclass(frozen=True)
class Lease:
    """A named lease of one model (the release lock, the retrain guard, any future lock).

    Its owner may take it again (a retry survives), anyone may take it once ``lease_until`` and
    ``cooldown_until`` have passed; times are whole epoch seconds, ``lease_until`` is 0 once released.
    """

    model: str
    name: str
    owner: str
    lease_until: int
    cooldown_until: int = 0
    trigger: str = ""
    acquired_at: str = ""
    released_at: str = ""

    @property
    def busy_until(self) -> int:
        """When the lease and its cool-down have both passed."""
        return max(self.lease_until, self.cooldown_until)

    def free_for(self, owner: str, now: float) -> bool:
        """``owner`` may take the lease at ``now``: it holds it already, or the lease and cool-down have passed."""
        return owner == self.owner or (self.lease_until < int(now) and self.cooldown_until < int(now))


@dataclass(frozen=True)
class LeaseGrant:
    """The answer to a lease request: taken, or refused with the lease as its holder left it."""

    acquired: bool
    lease: Lease
    at: float
    """The store's time of the decision (epoch seconds)."""
