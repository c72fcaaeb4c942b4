"""The abstract registry store (swappable backends, MLflow-style)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from sluice.registry.entities import AliasPointer, AuditEntry, DatasetRecord, ModelVersion, Status


class RegistryStore(ABC):
    """Every write is conditional; every status change is audited."""

    @abstractmethod
    def claim_version(
        self, model: str, *, data_version: str, code_version: str, lineage: dict[str, Any], actor: str,
        correlation_id: str,
    ) -> ModelVersion:
        """Claim the next version number (status ``training``)."""

    @abstractmethod
    def get_version(self, model: str, version: int) -> ModelVersion: ...

    @abstractmethod
    def list_versions(self, model: str) -> list[ModelVersion]: ...

    @abstractmethod
    def transition(
        self, model: str, version: int, *, to: Status, reason: str, actor: str, correlation_id: str,
        fields: dict[str, Any] | None = None,
    ) -> ModelVersion:
        """Move a version to ``to`` if the state machine allows it (conditional on the current status)."""

    @abstractmethod
    def get_alias(self, model: str, name: str) -> AliasPointer | None: ...

    @abstractmethod
    def promote(
        self, model: str, version: int, *, lambda_version: str, reason: str, actor: str, correlation_id: str,
    ) -> ModelVersion:
        """Make an approved version live; the former live version becomes ``previous``."""

    @abstractmethod
    def rollback(
        self, model: str, *, reason: str, actor: str, correlation_id: str
    ) -> tuple[ModelVersion, ModelVersion]:
        """Point ``live`` back at ``previous``; returns (rolled back, now live)."""

    @abstractmethod
    def history(self, model: str) -> list[AuditEntry]: ...

    @abstractmethod
    def record_dataset(self, record: DatasetRecord) -> bool:
        """Record an accepted data version; False when it was already known (the source is added)."""

    @abstractmethod
    def latest_dataset(self, model: str) -> DatasetRecord | None: ...

    @abstractmethod
    def acquire_deploy_lock(self, model: str, *, owner: str, ttl_s: int) -> None: ...

    @abstractmethod
    def release_deploy_lock(self, model: str, *, owner: str) -> None: ...
