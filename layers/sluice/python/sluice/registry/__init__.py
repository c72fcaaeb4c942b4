"""The model registry: versions, aliases and an audit trail, with conditional writes only."""

from __future__ import annotations

from sluice.registry.dynamodb import DynamoDBRegistry
from sluice.registry.entities import (
    AliasPointer,
    AuditEntry,
    DatasetRecord,
    Deployment,
    EndpointChange,
    ModelVersion,
    QueuedDeployment,
    Status,
)
from sluice.registry.errors import (
    ConcurrentUpdateError,
    DeployLockHeldError,
    DeploymentInProgressError,
    IllegalTransitionError,
    RegistryError,
    VersionNotFoundError,
)
from sluice.registry.store import RegistryStore
from sluice.registry.transitions import ALLOWED_TRANSITIONS, check_transition

__all__ = [
    "ALLOWED_TRANSITIONS",
    "AliasPointer",
    "AuditEntry",
    "ConcurrentUpdateError",
    "DatasetRecord",
    "DeployLockHeldError",
    "Deployment",
    "DeploymentInProgressError",
    "DynamoDBRegistry",
    "EndpointChange",
    "IllegalTransitionError",
    "ModelVersion",
    "QueuedDeployment",
    "RegistryError",
    "RegistryStore",
    "Status",
    "VersionNotFoundError",
    "check_transition",
]
