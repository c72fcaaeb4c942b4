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
    REJECTED = "rejected"
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
    lineage: dict[str, Any] = field(default_factory=dict)
    lambda_version: str = ""
    replaced_version: int | None = None

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
class AuditEntry:
    """One status change or alias move, with what caused it."""

    model: str
    at: str
    subject: str
    change: str
    reason: str
    actor: str
    correlation_id: str


@dataclass(frozen=True)
class DatasetRecord:
    """An accepted data version and the raw drops it came from."""

    model: str
    data_version: str
    rows: int
    data_key: str
    sources: tuple[str, ...]
    accepted_at: str
