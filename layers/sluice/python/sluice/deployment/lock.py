"""The release lock: the model's ``deploy`` lease, held around every change of its endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sluice.registry.errors import DeployLockHeldError
from sluice.registry.store import LeaseStore

RELEASE_LEASE = "deploy"


@contextmanager
def release_lock(leases: LeaseStore, model: str, *, owner: str, ttl_s: int) -> Iterator[None]:
    """Hold ``model``'s release lock for ``owner`` (a retry of the same owner takes it again); released on exit.

    DeployLockHeldError while another owner holds it and its ``ttl_s`` has not run out.
    """
    grant = leases.acquire_lease(model, RELEASE_LEASE, owner=owner, ttl_s=ttl_s)
    if not grant.acquired:
        raise DeployLockHeldError(f"a deployment of {model} is in progress ({grant.lease.owner})")
    try:
        yield
    finally:
        leases.release_lease(model, RELEASE_LEASE, owner=owner)
