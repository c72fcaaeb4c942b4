"""Safe releases: strategies as plans, bake checks as pure decisions, per-version metrics behind one interface,
the release lock and the queue order shared by the deploy, release and rollback steps."""

from __future__ import annotations

from typing import TYPE_CHECKING

# ``plan`` is also the name of its module, so it cannot be a lazy export: bound here (plan.py is pure and light)
from sluice.deployment.plan import Stage, plan
from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.deployment.abtest import AbOutcome, ab_report, decide_ab
    from sluice.deployment.approval import ApprovalDecision, ApprovalRefusedError
    from sluice.deployment.lock import RELEASE_LEASE, release_lock
    from sluice.deployment.metrics import CloudWatchVariantMetrics, Variant, VariantMetrics
    from sluice.deployment.progress import MAX_EXTENSIONS, Action, Decision, decide
    from sluice.deployment.queue import start_order
    from sluice.deployment.signals import VariantStats
    from sluice.deployment.verdict import Health, Verdict, judge

__getattr__, __dir__, _lazy = lazy_exports(__name__, __file__)
__all__ = [*_lazy, "Stage", "plan"]
