"""What the registry does, by use (MLflow's abstract store): one narrow interface per job, one backend per store.

A step or domain function asks for the interface it uses (``LeaseStore`` for a lock, ``AliasStore`` for the
live pointer); ``RegistryStore`` is all of them, what one backend (DynamoDB, in-memory) provides. Every write is
conditional and every status change is audited, whatever the backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from sluice.registry.entities import (
    AliasPointer,
    AuditEntry,
    DatasetRecord,
    Deployment,
    EndpointChange,
    Lease,
    LeaseGrant,
    ModelVersion,
    QueuedDeployment,
    Status,
)


class VersionStore(ABC):
    """Model versions and their state machine (``registry.transitions``)."""

    @abstractmethod
    def claim_version(
        self, model: str, *, data_version: str, code_version: str, lineage: dict[str, Any], actor: str,
        correlation_id: str, claim_key: str | None = None, reason: str = "training started",
    ) -> ModelVersion:
        """Claim the next version number (status ``training``; ``reason`` is its audit entry's).

        With ``claim_key``, a second claim with the same key returns the version the first one claimed
        (whatever its status now), so a rerun resumes its version instead of leaving a stuck one behind.
        """

    @abstractmethod
    def get_version(self, model: str, version: int) -> ModelVersion:
        """The version; VersionNotFoundError if it does not exist."""

    @abstractmethod
    def list_versions(self, model: str) -> list[ModelVersion]:
        """Every version of ``model``, oldest first."""

    @abstractmethod
    def transition(
        self, model: str, version: int, *, to: Status, reason: str, actor: str, correlation_id: str,
        fields: dict[str, Any] | None = None, trigger: str = "",
    ) -> ModelVersion:
        """Move a version to ``to`` if the state machine allows it (conditional on the current status)."""


class AliasStore(ABC):
    """The ``live`` and ``previous`` pointers and when traffic last moved."""

    @abstractmethod
    def get_alias(self, model: str, name: str) -> AliasPointer | None: ...

    @abstractmethod
    def promote(
        self, model: str, version: int, *, lambda_version: str, reason: str, actor: str, correlation_id: str,
        deployment: Deployment | None = None, trigger: str = "",
    ) -> ModelVersion:
        """Make an approved (or canary) version live; the former live version becomes ``previous``.

        With ``deployment`` the release in progress ends in the same transaction.
        """

    @abstractmethod
    def rollback(
        self, model: str, *, reason: str, actor: str, correlation_id: str, trigger: str = "",
    ) -> tuple[ModelVersion, ModelVersion]:
        """Point ``live`` back at ``previous``; returns (rolled back, now live)."""

    @abstractmethod
    def last_endpoint_change(self, model: str) -> EndpointChange | None:
        """When ``live`` last moved or the release in progress started or ended, and how; None if never."""


class ReleaseStore(ABC):
    """The release in progress (one per model) and the versions queued behind it."""

    @abstractmethod
    def get_deployment(self, model: str) -> Deployment | None: ...

    @abstractmethod
    def start_deployment(
        self, deployment: Deployment, *, reason: str, actor: str, trigger: str = "",
    ) -> Deployment:
        """Record the release and move the candidate approved → canary; DeploymentInProgressError if one runs."""

    @abstractmethod
    def update_deployment(
        self, current: Deployment, updated: Deployment, *, change: str, reason: str, actor: str, trigger: str = "",
    ) -> Deployment:
        """Replace the record if it is still ``current`` (same revision); audited."""

    @abstractmethod
    def end_deployment(
        self, current: Deployment, *, to: Status, reason: str, actor: str, trigger: str = "",
    ) -> ModelVersion:
        """Abort: the candidate canary → ``to`` (rolled_back or rejected) and the record is removed."""

    @abstractmethod
    def queue_deployment(self, model: str, version: int, *, correlation_id: str, actor: str, trigger: str = ""
                         ) -> bool:
        """Queue a version behind the release in progress; False when it was already queued."""

    @abstractmethod
    def queued_deployments(self, model: str) -> list[QueuedDeployment]:
        """The versions waiting, by version number."""

    @abstractmethod
    def take_queued(self, model: str, version: int) -> bool:
        """Remove a queued version; True for exactly one caller."""


class DatasetStore(ABC):
    """Accepted data versions and the drops they came from."""

    @abstractmethod
    def record_dataset(self, record: DatasetRecord, *, recorded_by: str | None = None) -> bool:
        """Record an accepted data version; False when it was already known (the source is added).

        Recording it again with the ``recorded_by`` (a drop id) that recorded it first — a rerun after a
        crash — returns True again, so the rerun finishes the work and announces it.
        """

    @abstractmethod
    def latest_dataset(self, model: str) -> DatasetRecord | None:
        """The most recently accepted drop (feedback datasets never become the latest)."""

    @abstractmethod
    def list_datasets(self, model: str) -> list[DatasetRecord]:
        """Every accepted data version of ``model`` (drops and feedback), in order of acceptance."""


class LeaseStore(ABC):
    """Named leases per model: one owner at a time, an expiry, and a cool-down left by the last holder."""

    @abstractmethod
    def acquire_lease(self, model: str, name: str, *, owner: str, ttl_s: float, trigger: str = "",
                      force: bool = False) -> LeaseGrant:
        """Take the lease for ``ttl_s`` seconds if it is free for ``owner`` (see ``Lease.free_for``).

        ``force`` takes it whoever holds it (an explicit user intent such as a schedule).
        """

    @abstractmethod
    def release_lease(self, model: str, name: str, *, owner: str, cooldown_s: float | None = None) -> bool:
        """End ``owner``'s lease, starting a cool-down of ``cooldown_s`` (None: leave it); False if not the owner."""

    @abstractmethod
    def get_lease(self, model: str, name: str) -> Lease | None: ...


class AuditLog(ABC):
    """The audit trail: every status change, alias move and decision, with what caused it."""

    @abstractmethod
    def history(self, model: str) -> list[AuditEntry]:
        """The entries of ``model``, oldest first."""

    @abstractmethod
    def note(self, model: str, *, subject: str, change: str, reason: str, actor: str, correlation_id: str,
             trigger: str = "") -> None:
        """Append an audit entry for something decided without a status change (a skipped rollback)."""


class RegistryStore(VersionStore, AliasStore, ReleaseStore, DatasetStore, LeaseStore, AuditLog, ABC):
    """The whole registry, as one backend provides it."""
