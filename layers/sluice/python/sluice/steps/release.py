"""Progressive releases: start a canary, linear, A/B or shadow release, check it, promote or abort it.

One release per model at a time: its registry record is the lock (a second approved version is queued and
starts when the first ends). Every move is conditional on the record's revision and audited.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sluice.clock import iso, parse_time
from sluice.config import DeploymentSettings
from sluice.deployment import (
    Action,
    Stage,
    Variant,
    VariantStats,
    ab_report,
    decide,
    decide_ab,
    judge,
    plan,
    release_lock,
)
from sluice.endpoint import EndpointSwapper, PinnedModel
from sluice.events import DetailType
from sluice.registry import AliasPointer, Deployment, ModelVersion, Status
from sluice.steps.context import StepContext
from sluice.storage import model_artifact_key

ACTOR = "deploy_model"
LOCK_TTL_S = 300
AB_REPORT_FILE = "ab-report.json"
SHADOW_REPORT_FILE = "shadow-report.json"


def stages_of(settings: DeploymentSettings, strategy: str) -> tuple[Stage, ...]:
    """The plan of ``strategy`` with the model's current parameters."""
    return plan(replace(settings, strategy=strategy))  # type: ignore[arg-type]


def start_release(ctx: StepContext, target: ModelVersion, live: AliasPointer, *, correlation_id: str,
                  trigger: str) -> dict[str, Any]:
    """Publish the candidate's pinned version, record the release (the lock), then give it its first weight."""
    model = target.model
    settings = ctx.config.model(model).deployment
    stages = stages_of(settings, settings.strategy)
    first = stages[0]
    swapper = _swapper(ctx, model)
    owner = f"{ACTOR}:{model}:v{target.version}:{correlation_id}"
    with release_lock(ctx.registry, model, owner=owner, ttl_s=LOCK_TTL_S):
        candidate_lambda = swapper.publish_pinned(PinnedModel(model, target.version, target.artifact_sha256))
        now = ctx.clock()
        deployment = Deployment(
            model=model, version=target.version, strategy=settings.strategy, stage=0, stages=len(stages),
            weight=first.weight, started_at=iso(now), stage_started_at=iso(now),
            next_check_at=iso(now + first.minutes * 60), candidate_lambda_version=candidate_lambda,
            live_version=live.version, live_lambda_version=live.lambda_version, correlation_id=correlation_id,
        )
        ctx.registry.start_deployment(deployment, reason=f"{first.label} for {first.minutes:g} min, then a check",
                                      actor=ACTOR, trigger=trigger)
        try:
            if first.weight > 0:
                swapper.shift(live.lambda_version, candidate_lambda, first.weight)
        except Exception:
            ctx.registry.end_deployment(deployment, to=Status.ROLLED_BACK, reason="could not shift traffic",
                                        actor=ACTOR, trigger=trigger)
            swapper.move_live(live.lambda_version)
            raise
    detail = {"model": model, "version": target.version, "strategy": settings.strategy, "stage": first.label,
              "weight": first.weight, "live_version": live.version, "lambda_version": candidate_lambda,
              "next_check_at": deployment.next_check_at, "correlation_id": correlation_id}
    ctx.events.publish(DetailType.DEPLOYMENT_STARTED, detail)
    _notify(ctx, f"{model} v{target.version}: {first.label} started", detail)
    return {"outcome": "release_started", "model": model, "version": target.version,
            "strategy": settings.strategy, "stage": first.label, "weight": first.weight,
            "lambda_version": candidate_lambda, "next_check_at": deployment.next_check_at}


def resume_release(ctx: StepContext, target: ModelVersion, *, correlation_id: str) -> dict[str, Any]:
    """A rerun for a version already in release (the run died after recording it): make sure the alias carries
    the stage's weight, and announce the release again."""
    deployment = ctx.registry.get_deployment(target.model)
    if deployment is None or deployment.version != target.version:
        return {"outcome": "already_releasing", "model": target.model, "version": target.version}
    if 0 < deployment.weight < 1:
        _swapper(ctx, target.model).shift(deployment.live_lambda_version, deployment.candidate_lambda_version,
                                          deployment.weight)
    detail = {"model": target.model, "version": target.version, "strategy": deployment.strategy,
              "weight": deployment.weight, "live_version": deployment.live_version,
              "lambda_version": deployment.candidate_lambda_version, "next_check_at": deployment.next_check_at,
              "correlation_id": correlation_id, "announced_again": True}
    ctx.events.publish(DetailType.DEPLOYMENT_STARTED, detail)
    return {"outcome": "release_started", "model": target.model, "version": target.version,
            "strategy": deployment.strategy, "weight": deployment.weight,
            "lambda_version": deployment.candidate_lambda_version, "next_check_at": deployment.next_check_at}


def check_release(ctx: StepContext, deployment: Deployment, *, trigger: str) -> dict[str, Any]:
    """Compare the candidate with live over the stage and promote, continue, or abort with a reason."""
    model_config = ctx.config.model(deployment.model)
    settings = model_config.deployment
    stages = stages_of(settings, deployment.strategy)
    stage = stages[min(deployment.stage, len(stages) - 1)]
    now = ctx.clock()
    due = now >= parse_time(deployment.next_check_at)
    base = {"model": deployment.model, "version": deployment.version, "strategy": deployment.strategy,
            "stage": stage.label}
    if not due:
        return {**base, "outcome": "baking", "next_check_at": deployment.next_check_at}
    started = parse_time(deployment.started_at if deployment.strategy == "ab" else deployment.stage_started_at)
    candidate, live = _measure(ctx, deployment, started, now)
    verdict = judge(candidate, live, settings.checks, relative_scores=model_config.task == "regression",
                    shadow=deployment.strategy == "shadow")
    decision = decide(strategy=deployment.strategy, stage=deployment.stage, stages=len(stages), due=True,
                      verdict=verdict, extensions=deployment.extensions)
    measured = {"candidate": candidate.document(), "live": live.document(), "verdict": verdict.health.value,
                "reasons": list(verdict.reasons)}
    if decision.action is Action.ABORT:
        abort_release(ctx, deployment, to=Status.ROLLED_BACK, reason=f"bake check failed: {decision.reason}",
                      actor=ACTOR, trigger=trigger, measured=measured)
        return {**base, "outcome": "aborted", "reason": decision.reason, **measured}
    if decision.action is Action.EXTEND:
        updated = replace(deployment, next_check_at=iso(now + stage.minutes * 60),
                          extensions=deployment.extensions + 1)
        ctx.registry.update_deployment(deployment, updated, change=f"{stage.label} extended",
                                       reason=decision.reason, actor=ACTOR, trigger=trigger)
        return {**base, "outcome": "extended", "reason": decision.reason, "next_check_at": updated.next_check_at}
    if decision.action is Action.ADVANCE:
        return _advance(ctx, deployment, stages[deployment.stage + 1], now, decision.reason, trigger, base,
                        measured)
    if decision.action is Action.CONCLUDE:
        return _conclude_ab(ctx, deployment, settings, candidate, live, started, now, trigger, base)
    if deployment.strategy == "shadow":
        _store_report(ctx, deployment, SHADOW_REPORT_FILE, {
            "model": deployment.model, "window": {"start": iso(started), "end": iso(now)},
            "live": {"version": deployment.live_version, **live.document()},
            "shadow": {"version": deployment.version, **candidate.document()}, "verdict": verdict.summary})
    promoted = promote_release(ctx, deployment, reason=f"bake check passed: {decision.reason}", trigger=trigger,
                               measured=measured)
    return {**base, "outcome": "promoted", "reason": decision.reason, **promoted, **measured}


def promote_release(ctx: StepContext, deployment: Deployment, *, reason: str, trigger: str,
                    measured: dict[str, Any] | None = None) -> dict[str, Any]:
    """All traffic to the candidate; it becomes live and the former live version ``previous``."""
    model = deployment.model
    owner = f"{ACTOR}:{model}:promote:{deployment.version}"
    with release_lock(ctx.registry, model, owner=owner, ttl_s=LOCK_TTL_S):
        _swapper(ctx, model).move_live(deployment.candidate_lambda_version)
        deployed = ctx.registry.promote(model, deployment.version, lambda_version=deployment.candidate_lambda_version,
                                        reason=reason, actor=ACTOR, correlation_id=deployment.correlation_id,
                                        deployment=deployment, trigger=trigger)
    detail = {"model": model, "version": deployment.version, "lambda_version": deployment.candidate_lambda_version,
              "strategy": deployment.strategy, "replaced_version": deployed.replaced_version,
              "previous_lambda_version": deployment.live_lambda_version, "reason": reason,
              "correlation_id": deployment.correlation_id, **({"measured": measured} if measured else {})}
    ctx.events.publish(DetailType.MODEL_DEPLOYED, detail)
    _notify(ctx, f"{model} v{deployment.version} promoted to live ({deployment.strategy})", detail)
    return {"lambda_version": deployment.candidate_lambda_version, "replaced_version": deployed.replaced_version}


def abort_release(ctx: StepContext, deployment: Deployment, *, to: Status, reason: str, actor: str, trigger: str,
                  measured: dict[str, Any] | None = None) -> ModelVersion:
    """All traffic back to live; the candidate becomes ``to`` (rolled_back, or rejected by an A/B test)."""
    model = deployment.model
    owner = f"{actor}:{model}:abort:{deployment.version}"
    with release_lock(ctx.registry, model, owner=owner, ttl_s=LOCK_TTL_S):
        _swapper(ctx, model).move_live(deployment.live_lambda_version)
        ended = ctx.registry.end_deployment(deployment, to=to, reason=reason, actor=actor, trigger=trigger)
    detail = {"model": model, "version": deployment.version, "status": to.value, "strategy": deployment.strategy,
              "live_version": deployment.live_version, "lambda_version": deployment.live_lambda_version,
              "reason": reason, "correlation_id": deployment.correlation_id,
              **({"measured": measured} if measured else {})}
    ctx.events.publish(DetailType.DEPLOYMENT_ABORTED, detail)
    _notify(ctx, f"{model} v{deployment.version} {deployment.strategy} aborted: live stays v{deployment.live_version}",
            detail)
    return ended


def _advance(ctx: StepContext, deployment: Deployment, following: Stage, now: float, reason: str, trigger: str,
             base: dict[str, Any], measured: dict[str, Any]) -> dict[str, Any]:
    updated = replace(deployment, stage=deployment.stage + 1, weight=following.weight, stage_started_at=iso(now),
                      next_check_at=iso(now + following.minutes * 60), extensions=0)
    stored = ctx.registry.update_deployment(deployment, updated, change=f"→ {following.label}",
                                            reason=f"check passed: {reason}", actor=ACTOR, trigger=trigger)
    _swapper(ctx, deployment.model).shift(deployment.live_lambda_version, deployment.candidate_lambda_version,
                                          following.weight)
    detail = {"model": deployment.model, "version": deployment.version, "strategy": deployment.strategy,
              "stage": following.label, "weight": following.weight, "next_check_at": stored.next_check_at,
              "reason": reason, "correlation_id": deployment.correlation_id}
    ctx.events.publish(DetailType.DEPLOYMENT_PROGRESSED, detail)
    return {**base, "outcome": "advanced", "to": following.label, "weight": following.weight, "reason": reason,
            **measured}


def _conclude_ab(ctx: StepContext, deployment: Deployment, settings: DeploymentSettings, candidate: VariantStats,
                 live: VariantStats, started: float, now: float, trigger: str, base: dict[str, Any]
                 ) -> dict[str, Any]:
    outcome = decide_ab(settings.ab_metric, settings.ab_margin, candidate, live)
    report = ab_report(model=deployment.model, metric=settings.ab_metric, margin=settings.ab_margin,
                       candidate_version=deployment.version, live_version=deployment.live_version,
                       candidate=candidate, live=live, outcome=outcome, window=(iso(started), iso(now)),
                       split=deployment.weight)
    key = _store_report(ctx, deployment, AB_REPORT_FILE, report)
    ctx.events.publish(DetailType.AB_TEST_CONCLUDED, {**report, "report_key": key,
                                                      "version": deployment.version,
                                                      "correlation_id": deployment.correlation_id})
    reason = f"A/B on {settings.ab_metric}: {outcome.reason}"
    if outcome.winner == "candidate":
        promoted = promote_release(ctx, deployment, reason=reason, trigger=trigger)
        return {**base, "outcome": "promoted", "reason": reason, "report_key": key, **promoted}
    abort_release(ctx, deployment, to=Status.REJECTED, reason=reason, actor=ACTOR, trigger=trigger)
    return {**base, "outcome": "rejected", "reason": reason, "report_key": key}


def _measure(ctx: StepContext, deployment: Deployment, start: float, end: float) -> tuple[VariantStats, VariantStats]:
    if ctx.metrics is None:
        raise RuntimeError("this step context has no metrics source for bake checks")
    function_name = ctx.settings.names.predict_function(deployment.model)
    candidate = Variant(deployment.model, function_name, deployment.version, deployment.candidate_lambda_version,
                        shadow=deployment.strategy == "shadow")
    live = Variant(deployment.model, function_name, deployment.live_version, deployment.live_lambda_version)
    return ctx.metrics.read(candidate, start, end), ctx.metrics.read(live, start, end)


def _store_report(ctx: StepContext, deployment: Deployment, name: str, report: dict[str, Any]) -> str:
    key = model_artifact_key(deployment.model, deployment.version, name)
    ctx.artifacts.put_bytes(key, json.dumps(report, indent=2, sort_keys=True, default=str).encode(),
                            content_type="application/json")
    return key


def _swapper(ctx: StepContext, model: str) -> EndpointSwapper:
    return EndpointSwapper(ctx.lambda_client, ctx.settings.names.predict_function(model))


def _notify(ctx: StepContext, subject: str, detail: dict[str, Any]) -> None:
    if ctx.notifier is not None:
        ctx.notifier.notify(subject, detail)
