"""The model registry: versions, aliases, releases, leases and an audit trail, with conditional writes only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.registry.dynamodb import DynamoDBRegistry
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
    from sluice.registry.errors import (
        ConcurrentUpdateError,
        DeployLockHeldError,
        DeploymentInProgressError,
        IllegalTransitionError,
        LeaseHeldError,
        RegistryError,
        VersionNotFoundError,
    )
    from sluice.registry.memory import InMemoryRegistry
    from sluice.registry.store import (
        AliasStore,
        AuditLog,
        DatasetStore,
        LeaseStore,
        RegistryStore,
        ReleaseStore,
        VersionStore,
    )
    from sluice.registry.transitions import ALLOWED_TRANSITIONS, check_transition

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
