"""rollback_model: point ``live`` back at the last known-good version."""

from __future__ import annotations

from typing import Any

from sluice.endpoint import EndpointSwapper
from sluice.events import DetailType
from sluice.steps.context import StepContext

ACTOR = "rollback_model"


def rollback(ctx: StepContext, model_name: str, *, reason: str, correlation_id: str) -> dict[str, Any]:
    """Roll back one model; a recorded no-op when there is nothing to go back to."""
    ctx.config.model(model_name)
    live = ctx.registry.get_alias(model_name, "live")
    previous = ctx.registry.get_alias(model_name, "previous")
    if live is None or previous is None:
        why = "no model is live" if live is None else f"v{live.version} has no previous good version"
        ctx.events.publish(DetailType.ROLLBACK_SKIPPED, {
            "model": model_name, "reason": why, "trigger": reason, "correlation_id": correlation_id,
        })
        return {"outcome": "skipped", "model": model_name, "reason": why}
    target = ctx.registry.get_version(model_name, previous.version)
    owner = f"{ACTOR}:{model_name}:{correlation_id}"
    ctx.registry.acquire_deploy_lock(model_name, owner=owner, ttl_s=300)
    try:
        EndpointSwapper(ctx.lambda_client, ctx.settings.names.predict_function(model_name)).move_live(
            target.lambda_version)
        rolled_back, now_live = ctx.registry.rollback(model_name, reason=reason, actor=ACTOR,
                                                      correlation_id=correlation_id)
    finally:
        ctx.registry.release_deploy_lock(model_name, owner=owner)
    ctx.events.publish(DetailType.MODEL_ROLLED_BACK, {
        "model": model_name, "version": now_live.version, "rolled_back_version": rolled_back.version,
        "lambda_version": now_live.lambda_version, "reason": reason, "correlation_id": correlation_id,
    })
    return {"outcome": "rolled_back", "model": model_name, "from_version": rolled_back.version,
            "to_version": now_live.version, "lambda_version": now_live.lambda_version, "reason": reason}
