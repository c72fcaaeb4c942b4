"""Triggered retraining (drift, quality alarm, schedule), debounced by the retrain guard."""

from __future__ import annotations

import uuid
from typing import Any

from sluice.monitoring.guard import RetrainGuard
from sluice.steps.context import StepContext
from sluice.steps.train import train_latest
from sluice.wiring import FUNCTIONS

LEASE_S = FUNCTIONS["train_model"].timeout_s


def guarded_retrain(ctx: StepContext, model_name: str, *, trigger: str, correlation_id: str,
                    force: bool = False, guard: RetrainGuard | None = None) -> dict[str, Any]:
    """Retrain on the model's training data unless a retrain runs or the cool-down lasts (``force``: schedules).

    The cool-down starts only after a successful training: a retrain that failed, raised, found no data or
    found nothing new leaves the next trigger free to try again.
    """
    model = ctx.config.model(model_name)
    guard = guard or RetrainGuard(ctx.registry)
    owner = f"{trigger}:{correlation_id}:{uuid.uuid4().hex[:8]}"
    decision = guard.acquire(model_name, owner=owner, trigger=trigger, lease_s=LEASE_S, force=force)
    if not decision.acquired:
        return {"outcome": "debounced", "model": model_name, "trigger": trigger, "reason": decision.reason}
    trained = False
    try:
        result = train_latest(ctx, model_name, trigger=trigger, correlation_id=correlation_id)
        trained = result.get("outcome") == "trained"
        return result
    finally:
        cooldown = model.monitoring.retrain_cooldown_minutes * 60 if trained and not force else None
        guard.release(model_name, owner=owner, cooldown_s=cooldown)
