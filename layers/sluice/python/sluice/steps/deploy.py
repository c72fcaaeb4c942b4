"""deploy_model: release an approved version by the model's strategy (all at once, or progressively), and the
scheduled check that moves releases in progress on and starts queued ones."""

from __future__ import annotations

from typing import Any

from sluice.deployment import release_lock, start_order
from sluice.deployment.approval import ApprovalDecision, needs_approval
from sluice.endpoint import EndpointSwapper, PinnedModel
from sluice.events import DetailType
from sluice.registry import DeploymentInProgressError, ModelVersion, Status
from sluice.steps.approval import record_decision, request_approval, retire_expired
from sluice.steps.context import StepContext
from sluice.steps.release import check_release, resume_release, start_release

ACTOR = "deploy_model"
LOCK_TTL_S = 900


def deploy_version(ctx: StepContext, model_name: str, version: int, *, correlation_id: str,
                   trigger: str = "") -> dict[str, Any]:
    """Release ``version``: queued behind a release in progress, all at once when nothing is live yet."""
    settings = ctx.config.model(model_name).deployment
    target = ctx.registry.get_version(model_name, version)
    if target.status is Status.LIVE:
        # only a rerun gets here (Powertools drops duplicates first): the earlier run may have died before
        # announcing, so announce again — a restated fact, harmless to every consumer
        ctx.events.publish(DetailType.MODEL_DEPLOYED, {
            "model": model_name, "version": version, "lambda_version": target.lambda_version,
            "replaced_version": target.replaced_version, "correlation_id": correlation_id, "announced_again": True,
        })
        return {"outcome": "already_live", "model": model_name, "version": version,
                "lambda_version": target.lambda_version}
    if target.status is Status.CANARY:
        return resume_release(ctx, target, correlation_id=correlation_id)
    if target.status is Status.PENDING_APPROVAL or needs_approval(target, settings.approval):
        return request_approval(ctx, target, correlation_id=correlation_id, trigger=trigger)
    if target.status is not Status.APPROVED:
        return {"outcome": "skipped", "model": model_name, "version": version,
                "reason": f"v{version} is {target.status.value}, not approved"}
    if ctx.registry.get_deployment(model_name) is not None:
        return _queue(ctx, target, correlation_id=correlation_id, trigger=trigger)
    live = ctx.registry.get_alias(model_name, "live")
    if settings.strategy == "all_at_once" or live is None:
        first = "" if live or settings.strategy == "all_at_once" else " (first release: nothing live to compare with)"
        approver = target.approval.get("actor")
        by = f"approved by the evaluation gate and by {approver}" if approver else "approved by the evaluation gate"
        return _all_at_once(ctx, target, reason=f"{by}{first}",
                            correlation_id=correlation_id, trigger=trigger)
    try:
        return start_release(ctx, target, live, correlation_id=correlation_id, trigger=trigger)
    except DeploymentInProgressError:  # another release started between the read and the conditional write
        return _queue(ctx, target, correlation_id=correlation_id, trigger=trigger)


def decide_approval(ctx: StepContext, decision: ApprovalDecision, *, trigger: str) -> dict[str, Any]:
    """Apply a human's decision on a pending version: approve → its release starts (or queues), as any approved
    version's; reject → it is never served. ApprovalRefusedError if the version is not waiting for a decision."""
    decided = record_decision(ctx, decision, trigger=trigger)
    if decided.status is Status.REJECTED:
        return {"outcome": "rejected", "model": decision.model, "version": decision.version,
                "actor": decision.actor, "reason": decision.reason}
    released = deploy_version(ctx, decision.model, decision.version, correlation_id=decision.correlation_id,
                              trigger=trigger)
    return {**released, "approved_by": decision.actor, "approval_reason": decision.reason}


def check_releases(ctx: StepContext, models: tuple[str, ...], *, correlation_id: str, trigger: str
                   ) -> dict[str, Any]:
    """The scheduled check: retire versions whose approval expired; move each model's release in progress on;
    start a queued one when a model is free."""
    results: list[dict[str, Any]] = []
    for model in models:
        results.extend(retire_expired(ctx, model, trigger=trigger))
        active = ctx.registry.get_deployment(model)
        if active is not None:
            result = check_release(ctx, active, trigger=trigger)
            results.append(result)
            if result["outcome"] not in ("promoted", "aborted", "rejected"):
                continue
        started = start_next_queued(ctx, model, trigger=trigger)
        if started is not None:
            results.append(started)
    return {"outcome": "checked", "releases": results, "correlation_id": correlation_id}


def start_next_queued(ctx: StepContext, model: str, *, trigger: str) -> dict[str, Any] | None:
    """Start the oldest queued version that is still approved (None when nothing starts)."""
    if ctx.registry.get_deployment(model) is not None:
        return None
    for queued in start_order(ctx.registry.queued_deployments(model)):
        if not ctx.registry.take_queued(model, queued.version):
            continue
        result = deploy_version(ctx, model, queued.version, correlation_id=queued.correlation_id, trigger=trigger)
        if result["outcome"] not in ("skipped", "pending_approval"):
            return result
    return None


def _queue(ctx: StepContext, target: ModelVersion, *, correlation_id: str, trigger: str) -> dict[str, Any]:
    active = ctx.registry.get_deployment(target.model)
    behind = f"{active.label} (stage {active.stage + 1}/{active.stages})" if active else "a release in progress"
    reason = f"{behind} is in progress; v{target.version} starts when it ends"
    queued = ctx.registry.queue_deployment(target.model, target.version, correlation_id=correlation_id, actor=ACTOR,
                                           trigger=trigger)
    if queued:
        ctx.events.publish(DetailType.DEPLOYMENT_QUEUED, {
            "model": target.model, "version": target.version, "reason": reason,
            "behind_version": active.version if active else None, "correlation_id": correlation_id,
        })
    return {"outcome": "queued", "model": target.model, "version": target.version, "reason": reason}


def _all_at_once(ctx: StepContext, target: ModelVersion, *, reason: str, correlation_id: str, trigger: str
                 ) -> dict[str, Any]:
    """Publish a pinned predict version, move ``live`` wholly to it, then record it."""
    model_name, version = target.model, target.version
    owner = f"{ACTOR}:{model_name}:v{version}:{correlation_id}"
    with release_lock(ctx.registry, model_name, owner=owner, ttl_s=LOCK_TTL_S):
        swapper = EndpointSwapper(ctx.lambda_client, ctx.settings.names.predict_function(model_name))
        ctx.events.publish(DetailType.DEPLOYMENT_STARTED, {
            "model": model_name, "version": version, "strategy": "all_at_once", "correlation_id": correlation_id,
        })
        lambda_version = swapper.publish_pinned(PinnedModel(model_name, version, target.artifact_sha256))
        previous_lambda_version = swapper.live_version()
        swapper.move_live(lambda_version)
        deployed = ctx.registry.promote(model_name, version, lambda_version=lambda_version, reason=reason,
                                        actor=ACTOR, correlation_id=correlation_id, trigger=trigger)
    detail = {"model": model_name, "version": version, "lambda_version": lambda_version, "strategy": "all_at_once",
              "replaced_version": deployed.replaced_version, "previous_lambda_version": previous_lambda_version,
              "correlation_id": correlation_id}
    ctx.events.publish(DetailType.MODEL_DEPLOYED, detail)
    if ctx.notifier is not None:
        ctx.notifier.notify(f"{model_name} v{version} is live (all at once)", detail)
    return {"outcome": "deployed", "model": model_name, "version": version, "lambda_version": lambda_version,
            "replaced_version": deployed.replaced_version}
