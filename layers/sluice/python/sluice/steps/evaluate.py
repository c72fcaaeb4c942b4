"""evaluate_model: score a candidate on the holdout, compare it with live, approve or reject, write its card."""

from __future__ import annotations

from typing import Any

import pandas as pd

from sluice.artifacts import CARD_HTML_FILE, CARD_JSON_FILE, EVALUATION_FILE, TRAINING_FILE, load_verified_model
from sluice.cards import build_card, render_html
from sluice.clock import iso
from sluice.config.deployment import ONNX_FORMAT
from sluice.evaluation import HoldoutReport, decide, report_holdout
from sluice.events import DetailType
from sluice.registry import Status
from sluice.steps.context import StepContext
from sluice.steps.training_data import lineage_data_keys, load_split
from sluice.storage import model_artifact_key

ACTOR = "evaluate_model"


def evaluate_candidate(ctx: StepContext, model_name: str, version: int, *, correlation_id: str) -> dict[str, Any]:
    model = ctx.config.model(model_name)
    candidate = ctx.registry.get_version(model_name, version)
    if candidate.status in (Status.APPROVED, Status.REJECTED):  # a rerun after a crash before the event
        return _announce_again(ctx, model_name, version, correlation_id=correlation_id)
    if candidate.status is not Status.CANDIDATE:
        return {"outcome": "skipped", "model": model_name, "version": version,
                "reason": f"v{version} is {candidate.status.value}, not a candidate"}
    train, holdout = load_split(ctx.data, lineage_data_keys(candidate.lineage), model)
    served = load_verified_model(ctx.artifacts, model_name, version, candidate.artifact_sha256)
    report = report_holdout(served, holdout, model, full=True)
    metrics = report.metrics
    live_alias = ctx.registry.get_alias(model_name, "live")
    live_report: HoldoutReport | None = None
    if live_alias is not None:
        live = ctx.registry.get_version(model_name, live_alias.version)
        live_model = load_verified_model(ctx.artifacts, model_name, live.version, live.artifact_sha256)
        live_report = report_holdout(live_model, holdout, model, full=False)
    live_metrics = live_report.metrics if live_report else None
    serving = None if candidate.serving == ONNX_FORMAT else (candidate.serving, model.deployment.endpoint_package)
    decision = decide(metrics, live_metrics, model.gates, slices=report.slices,
                      live_slices=live_report.slices if live_report else None, serving=serving)
    status = Status.APPROVED if decision.approved else Status.REJECTED
    live_version = live_alias.version if live_alias else None
    refit = None
    if decision.approved and model.training.refit_on_all:
        # imported here: the refit exports ONNX (skl2onnx), which an evaluation without refit never loads
        from sluice.steps.refit import refit_approved

        refit = refit_approved(ctx, model, candidate, pd.concat([train, holdout], ignore_index=True), holdout)
    ctx.artifacts.put_json(model_artifact_key(model_name, version, EVALUATION_FILE), {
        "model": model_name, "version": version, "holdout_rows": len(holdout), "metrics": metrics,
        "intervals": report.intervals, "slices": report.slices, "live_version": live_version,
        "live_metrics": live_metrics, "live_slices": live_report.slices if live_report else None,
        "approved": decision.approved, "reasons": list(decision.reasons), "checks": decision.checks,
        "refit": refit,
    })
    card = build_card(
        model, version, data_version=candidate.data_version,
        training=ctx.artifacts.get_json(model_artifact_key(model_name, version, TRAINING_FILE)),
        candidate=report, holdout_rows=len(holdout), live_version=live_version, live=live_report,
        decision=decision, created_at=iso(ctx.clock()), lineage=candidate.lineage, refit=refit,
    )
    ctx.artifacts.put_json(model_artifact_key(model_name, version, CARD_JSON_FILE), card)
    ctx.artifacts.put_text(model_artifact_key(model_name, version, CARD_HTML_FILE), render_html(card),
                           content_type="text/html; charset=utf-8")
    ctx.registry.transition(
        model_name, version, to=status, reason="; ".join(decision.reasons), actor=ACTOR,
        correlation_id=correlation_id,
        fields={"metrics": metrics, "live_metrics": live_metrics or {}, "gate_reasons": list(decision.reasons),
                **_shipped(candidate.lineage, refit)},
    )
    ctx.events.publish(DetailType.MODEL_EVALUATED, {
        "model": model_name, "version": version, "approved": decision.approved, "reasons": list(decision.reasons),
        "metrics": metrics, "live_version": live_version, "live_metrics": live_metrics,
        "correlation_id": correlation_id,
    })
    return {"outcome": status.value, "model": model_name, "version": version, "metrics": metrics,
            "live_metrics": live_metrics, "reasons": list(decision.reasons)}


def _shipped(lineage: dict[str, Any], refit: dict[str, Any] | None) -> dict[str, Any]:
    """Registry fields of a refit: the shipped artifact becomes the refit's; lineage keeps both facts."""
    if refit is None:
        return {}
    facts = {key: refit.get(key) for key in ("applied", "rows", "gated_artifact_sha256", "artifact_sha256",
                                              "reason") if refit.get(key) is not None}
    fields: dict[str, Any] = {"lineage": {**lineage, "refit": facts}}
    if refit["applied"]:
        fields.update({key: refit[key] for key in ("artifact_sha256", "pipeline_sha256", "artifact_prefix",
                                                   "serving")})
    return fields


def _announce_again(ctx: StepContext, model_name: str, version: int, *, correlation_id: str) -> dict[str, Any]:
    """Publish the recorded decision again: consumers are idempotent, a lost ModelEvaluated is not."""
    evaluation = ctx.artifacts.get_json(model_artifact_key(model_name, version, EVALUATION_FILE))
    approved = bool(evaluation["approved"])
    ctx.events.publish(DetailType.MODEL_EVALUATED, {
        "model": model_name, "version": version, "approved": approved, "reasons": evaluation["reasons"],
        "metrics": evaluation["metrics"], "live_version": evaluation["live_version"],
        "live_metrics": evaluation["live_metrics"], "correlation_id": correlation_id,
    })
    status = Status.APPROVED if approved else Status.REJECTED
    return {"outcome": status.value, "model": model_name, "version": version, "metrics": evaluation["metrics"],
            "live_metrics": evaluation["live_metrics"], "reasons": evaluation["reasons"], "resumed": True}
