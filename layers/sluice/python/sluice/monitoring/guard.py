"""Debounce triggered retraining: the model's ``retrain`` lease and the cool-down its last holder left.

A retrain may start when none is running (its lease expired or was released) and the cool-down of the last
triggered one has passed. The cool-down starts at release, and only after a successful train (a failed one
leaves the next trigger free to try again). Drift events and quality alarms that arrive meanwhile are
acknowledged and dropped, so a burst of triggers starts one retrain, not a storm. Scheduled retrains take the
lease unconditionally (the schedule is the user's explicit intent): triggers wait while they run, but they start
no cool-down.
"""

from __future__ import annotations

from dataclasses import dataclass

from sluice.clock import iso
from sluice.registry.entities import Lease
from sluice.registry.store import LeaseStore

RETRAIN_LEASE = "retrain"


@dataclass(frozen=True)
class GuardDecision:
    acquired: bool
    reason: str
    busy_until: float = 0.0


class RetrainGuard:
    """The retrain lease and cool-down of each model, on the registry's leases."""

    def __init__(self, leases: LeaseStore) -> None:
        self._leases = leases

    def acquire(self, model: str, *, owner: str, trigger: str, lease_s: float, force: bool = False) -> GuardDecision:
        """Take the guard for ``owner``; refused while a retrain runs or the cool-down lasts (unless ``force``)."""
        grant = self._leases.acquire_lease(model, RETRAIN_LEASE, owner=owner, ttl_s=lease_s, trigger=trigger,
                                           force=force)
        if grant.acquired:
            return GuardDecision(True, f"guard taken for {trigger}")
        held = grant.lease
        why = "a retrain is running" if held.lease_until >= grant.at else "the retrain cool-down has not passed"
        return GuardDecision(False, f"{why} (last taken {held.acquired_at} by {held.trigger}) "
                                    f"until {iso(held.busy_until)}", float(held.busy_until))

    def release(self, model: str, *, owner: str, cooldown_s: float | None) -> None:
        """End ``owner``'s retrain; start a cool-down of ``cooldown_s`` (None: leave the cool-down as it is)."""
        self._leases.release_lease(model, RETRAIN_LEASE, owner=owner, cooldown_s=cooldown_s)

    def state(self, model: str) -> Lease | None:
        """The model's retrain lease as stored (None before the first retrain)."""
        return self._leases.get_lease(model, RETRAIN_LEASE)
