"""evaluate_model: score a candidate on the holdout, compare it with live, approve or reject."""

from __future__ import annotations

from typing import Any

from sluice.artifacts import EVALUATION_FILE, load_verified_model
from sluice.data import from_parquet_bytes
from sluice.evaluation import decide, score
from sluice.events import DetailType
from sluice.registry import Status
from sluice.steps.context import StepContext
from sluice.storage import model_artifact_key
from sluice.training import split_holdout

ACTOR = "evaluate_model"


def evaluate_candidate(ctx: StepContext, model_name: str, version: int, *, correlation_id: str) -> dict[str, Any]:
    model = ctx.config.model(model_name)
    candidate = ctx.registry.get_version(model_name, version)
    if candidate.status is not Status.CANDIDATE:
        return {"outcome": "skipped", "model": model_name, "version": version,
                "reason": f"v{version} is {candidate.status.value}, not a candidate"}
    data_key = candidate.lineage.get("data_key") or ""
    frame = from_parquet_bytes(ctx.data.get_bytes(data_key)).to_pandas()
    _, holdout = split_holdout(frame, model)
    metrics = score(load_verified_model(ctx.artifacts, model_name, version, candidate.artifact_sha256), holdout, model)
    live_alias = ctx.registry.get_alias(model_name, "live")
    live_metrics: dict[str, float] | None = None
    if live_alias is not None:
        live = ctx.registry.get_version(model_name, live_alias.version)
        live_model = load_verified_model(ctx.artifacts, model_name, live.version, live.artifact_sha256)
        live_metrics = score(live_model, holdout, model)
    decision = decide(metrics, live_metrics, model.gates)
    status = Status.APPROVED if decision.approved else Status.REJECTED
    ctx.artifacts.put_json(model_artifact_key(model_name, version, EVALUATION_FILE), {
        "model": model_name, "version": version, "holdout_rows": len(holdout), "metrics": metrics,
        "live_version": live_alias.version if live_alias else None, "live_metrics": live_metrics,
        "approved": decision.approved, "reasons": list(decision.reasons), "checks": decision.checks,
    })
    ctx.registry.transition(
        model_name, version, to=status, reason="; ".join(decision.reasons), actor=ACTOR,
        correlation_id=correlation_id,
        fields={"metrics": metrics, "live_metrics": live_metrics or {}, "gate_reasons": list(decision.reasons)},
    )
    ctx.events.publish(DetailType.MODEL_EVALUATED, {
        "model": model_name, "version": version, "approved": decision.approved, "reasons": list(decision.reasons),
        "metrics": metrics, "live_version": live_alias.version if live_alias else None,
        "live_metrics": live_metrics, "correlation_id": correlation_id,
    })
    return {"outcome": status.value, "model": model_name, "version": version, "metrics": metrics,
            "live_metrics": live_metrics, "reasons": list(decision.reasons)}
