"""deploy_model: record an approved version as live and swap the endpoint to it."""

from __future__ import annotations

from typing import Any

from sluice.endpoint import EndpointSwapper, PinnedModel
from sluice.events import DetailType
from sluice.registry import Status
from sluice.steps.context import StepContext

ACTOR = "deploy_model"
LOCK_TTL_S = 900


def deploy_version(ctx: StepContext, model_name: str, version: int, *, correlation_id: str) -> dict[str, Any]:
    """All-at-once release: publish a pinned predict version, move ``live``, then record it."""
    ctx.config.model(model_name)
    target = ctx.registry.get_version(model_name, version)
    if target.status is Status.LIVE:
        return {"outcome": "already_live", "model": model_name, "version": version,
                "lambda_version": target.lambda_version}
    if target.status is not Status.APPROVED:
        return {"outcome": "skipped", "model": model_name, "version": version,
                "reason": f"v{version} is {target.status.value}, not approved"}
    owner = f"{ACTOR}:{model_name}:v{version}:{correlation_id}"
    ctx.registry.acquire_deploy_lock(model_name, owner=owner, ttl_s=LOCK_TTL_S)
    try:
        swapper = EndpointSwapper(ctx.lambda_client, ctx.settings.names.predict_function(model_name))
        ctx.events.publish(DetailType.DEPLOYMENT_STARTED, {
            "model": model_name, "version": version, "strategy": "all_at_once", "correlation_id": correlation_id,
        })
        lambda_version = swapper.publish_pinned(PinnedModel(model_name, version, target.artifact_sha256))
        previous_lambda_version = swapper.live_version()
        swapper.move_live(lambda_version)
        deployed = ctx.registry.promote(model_name, version, lambda_version=lambda_version,
                                        reason="approved by the evaluation gate", actor=ACTOR,
                                        correlation_id=correlation_id)
    finally:
        ctx.registry.release_deploy_lock(model_name, owner=owner)
    ctx.events.publish(DetailType.MODEL_DEPLOYED, {
        "model": model_name, "version": version, "lambda_version": lambda_version,
        "replaced_version": deployed.replaced_version, "previous_lambda_version": previous_lambda_version,
        "correlation_id": correlation_id,
    })
    return {"outcome": "deployed", "model": model_name, "version": version, "lambda_version": lambda_version,
            "replaced_version": deployed.replaced_version}
