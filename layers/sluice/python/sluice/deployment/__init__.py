"""Safe releases: strategies as plans, bake checks as pure decisions, per-version metrics behind one interface,
the release lock and the queue order shared by the deploy, release and rollback steps."""

from __future__ import annotations

from sluice.deployment.abtest import AbOutcome, ab_report, decide_ab
from sluice.deployment.lock import RELEASE_LEASE, release_lock
from sluice.deployment.metrics import CloudWatchVariantMetrics, Variant, VariantMetrics
from sluice.deployment.plan import Stage, plan
from sluice.deployment.progress import MAX_EXTENSIONS, Action, Decision, decide
from sluice.deployment.queue import start_order
from sluice.deployment.signals import VariantStats
from sluice.deployment.verdict import Health, Verdict, judge

__all__ = [
    "MAX_EXTENSIONS",
    "RELEASE_LEASE",
    "AbOutcome",
    "Action",
    "CloudWatchVariantMetrics",
    "Decision",
    "Health",
    "Stage",
    "Variant",
    "VariantMetrics",
    "VariantStats",
    "Verdict",
    "ab_report",
    "decide",
    "decide_ab",
    "judge",
    "plan",
    "release_lock",
    "start_order",
]
