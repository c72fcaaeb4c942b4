"""Registry exceptions."""

from __future__ import annotations


class RegistryError(RuntimeError):
    """Base class of registry failures."""


class VersionNotFoundError(RegistryError):
    """The model version does not exist."""


class IllegalTransitionError(RegistryError):
    """A status change the state machine does not allow."""


class ConcurrentUpdateError(RegistryError):
    """A conditional write lost a race; re-read and retry, or give up."""


class LeaseHeldError(RegistryError):
    """Another owner holds the lease (or its cool-down lasts)."""


class DeployLockHeldError(LeaseHeldError):
    """Another deployment of the same model is in progress (it holds the release lock)."""


class DeploymentInProgressError(RegistryError):
    """The model already has a release in progress (one release per model at a time)."""
