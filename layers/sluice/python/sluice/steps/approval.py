"""The manual approval gate's registry side: a version waits in ``pending_approval`` (older waiting ones are
superseded), a decision moves it on, the deployment check retires the expired. The release itself is deploy's."""

from __future__ import annotations

import os
from typing import Any

from sluice.config.errors import ConfigError
from sluice.deployment.approval import (
    EXPIRED_REASON,
    ApprovalDecision,
    ApprovalRefusedError,
    approval_request,
    check_decidable,
    expired,
    pending_record,
    superseded,
)
from sluice.events import DetailType
from sluice.registry import ConcurrentUpdateError, ModelVersion, Status, VersionNotFoundError
from sluice.steps.context import StepContext
from sluice.storage import model_artifact_key

ACTOR = "deploy_model"


def request_approval(ctx: StepContext, target: ModelVersion, *, correlation_id: str, trigger: str
                     ) -> dict[str, Any]:
    """Move an approved version to ``pending_approval``, retire older waiting ones, and ask people to decide."""
    from sluice.artifacts import CARD_HTML_FILE  # its module loads the serving stack: only on this rare path

    settings = ctx.config.model(target.model).deployment
    if target.status is Status.APPROVED:
        record = pending_record(ctx.clock(), settings.approval_expires_after_hours, correlation_id)
        target = ctx.registry.transition(
            target.model, target.version, to=Status.PENDING_APPROVAL, actor=ACTOR, correlation_id=correlation_id,
            reason=f"approval required (deployment.approval = manual); expires {record['expires_at'][:19]}Z",
            fields={"approval": record}, trigger=trigger)
    for older in superseded(ctx.registry.list_versions(target.model), target.version):
        ctx.registry.transition(older.model, older.version, to=Status.RETIRED, actor=ACTOR,
                                correlation_id=correlation_id, trigger=trigger,
                                reason=f"superseded by v{target.version} while waiting for approval")
    live_alias = ctx.registry.get_alias(target.model, "live")
    live = ctx.registry.get_version(target.model, live_alias.version) if live_alias else None
    detail = {**approval_request(target, live, bucket=ctx.settings.artifact_bucket, region=_region(),
                                 card_key=model_artifact_key(target.model, target.version, CARD_HTML_FILE)),
              "correlation_id": correlation_id}
    ctx.events.publish(DetailType.APPROVAL_REQUESTED, detail)
    _notify(ctx, f"{target.model} v{target.version} waits for approval", detail)
    return {"outcome": "pending_approval", "model": target.model, "version": target.version,
            "expires_at": detail["expires_at"], "model_card": detail["model_card"]}


def record_decision(ctx: StepContext, decision: ApprovalDecision, *, trigger: str) -> ModelVersion:
    """Apply ``decision`` to its pending version (conditional, audited with who and why) and return the version;
    a rerun of the same decision returns it as it is. ApprovalRefusedError if it is not pending."""
    try:
        ctx.config.model(decision.model)
        version = ctx.registry.get_version(decision.model, decision.version)
    except (ConfigError, VersionNotFoundError) as error:
        raise ApprovalRefusedError(str(error)) from None
    if not check_decidable(version, decision):
        return version
    try:
        decided = ctx.registry.transition(
            decision.model, decision.version, to=decision.status, reason=decision.reason, actor=decision.actor,
            correlation_id=decision.correlation_id, trigger=trigger,
            fields={"approval": decision.record(ctx.clock(), version.approval)})
    except ConcurrentUpdateError:  # decided or expired meanwhile: the same decision is done, any other refused
        version = ctx.registry.get_version(decision.model, decision.version)
        check_decidable(version, decision)
        return version
    if decided.status is Status.REJECTED:
        _notify(ctx, f"{decision.model} v{decision.version} rejected by a reviewer",
                {"model": decision.model, "version": decision.version, "actor": decision.actor,
                 "reason": decision.reason, "correlation_id": decision.correlation_id})
    return decided


def retire_expired(ctx: StepContext, model: str, *, trigger: str) -> list[dict[str, Any]]:
    """Retire every pending version of ``model`` whose approval expired (the deployment check's sweep)."""
    now = ctx.clock()
    results = []
    for version in ctx.registry.list_versions(model):
        if not expired(version, now):
            continue
        correlation_id = str(version.approval.get("requested_by", ""))
        try:
            ctx.registry.transition(model, version.version, to=Status.RETIRED, reason=EXPIRED_REASON, actor=ACTOR,
                                    correlation_id=correlation_id, trigger=trigger)
        except ConcurrentUpdateError:  # decided at the last moment: the decision stands
            continue
        detail = {"model": model, "version": version.version, "expires_at": version.approval.get("expires_at"),
                  "correlation_id": correlation_id}
        ctx.events.publish(DetailType.APPROVAL_EXPIRED, detail)
        _notify(ctx, f"{model} v{version.version}: approval expired, retired", detail)
        results.append({"outcome": "approval_expired", "model": model, "version": version.version})
    return results


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "")


def _notify(ctx: StepContext, subject: str, detail: dict[str, Any]) -> None:
    if ctx.notifier is not None:
        ctx.notifier.notify(subject, detail)
