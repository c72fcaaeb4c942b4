"""The model card of one version as a JSON document: what it is, how it was chosen, how it scored, the gate."""

from __future__ import annotations

from typing import Any

from sluice.config.model import ModelConfig
from sluice.evaluation.gates import GateDecision
from sluice.evaluation.report import HoldoutReport

CARD_SCHEMA = "sluice.model-card/1"


def build_card(
    config: ModelConfig,
    version: int,
    *,
    data_version: str,
    training: dict[str, Any],
    candidate: HoldoutReport,
    holdout_rows: int,
    live_version: int | None,
    live: HoldoutReport | None,
    decision: GateDecision,
    created_at: str,
    lineage: dict[str, Any] | None = None,
    refit: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the card from the training summary, the holdout reports, the gate decision, the training data's
    lineage (accepted versions and window) and, with ``training.refit_on_all``, the refit that ships."""
    contract = config.contract
    lineage = lineage or {}
    return {
        "schema": CARD_SCHEMA,
        "model": config.name,
        "version": version,
        "created_at": created_at,
        "description": config.description,
        "task": config.task,
        "data": {
            "data_version": data_version,
            "data_versions": training.get("data_versions") or lineage.get("data_versions") or [data_version],
            "window": training.get("window") or lineage.get("window"),
            "sources": lineage.get("sources", []),
            "target": contract.target,
            "features": [{"name": column.name, "type": column.type} for column in contract.columns],
            "training_rows": training.get("training_rows"),
            "holdout_rows": holdout_rows,
            "holdout": "latest rows by " + config.training.time_column if config.training.time_column
            else f"seeded {'stratified ' if config.task == 'classification' else ''}random "
                 f"{config.training.holdout_fraction:.0%} (seed {config.training.seed})",
        },
        "training": {
            "family": training.get("family"),
            "params": training.get("params", {}),
            "cv_metric": training.get("cv_metric"),
            "cv_folds": config.training.cv_folds,
            "cv": training.get("cv", {}),
            "search": training.get("search"),
            "trials": training.get("trials", []),
            "duration_s": training.get("duration_s"),
            "code_version": training.get("code_version"),
        },
        "evaluation": {
            "model": "the gated model (trained without the holdout)" if refit and refit.get("applied")
            else "the shipped model",
            "primary_metric": config.gates.primary_metric,
            "metrics": candidate.metrics,
            "intervals": candidate.intervals,
            "confidence": config.gates.bootstrap.confidence,
            "slices": candidate.slices,
            "live_version": live_version,
            "live_metrics": live.metrics if live else None,
            "live_slices": live.slices if live else None,
        },
        "gate": {"approved": decision.approved, "reasons": list(decision.reasons), "checks": decision.checks},
        "plots": candidate.plots,
        "importance": candidate.importance,
        "explanation_importance": candidate.explanation_importance,
        "artifacts": {
            "onnx_sha256": training.get("artifact_sha256"),
            "onnx_max_abs_diff": training.get("onnx_max_abs_diff"),
            "serving": training.get("serving", "onnx"),
        },
        "refit": _refit_section(config, refit),
    }


def _refit_section(config: ModelConfig, refit: dict[str, Any] | None) -> dict[str, Any]:
    """Whether the shipped model was refit on train + holdout after the gate, and what ships."""
    if not config.training.refit_on_all:
        return {"configured": False, "applied": False}
    if refit is None:
        return {"configured": True, "applied": False, "reason": "the gate did not approve the candidate"}
    return {"configured": True, **{key: value for key, value in refit.items() if key != "params"}}
