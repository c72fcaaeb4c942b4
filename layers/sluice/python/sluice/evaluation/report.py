"""Everything measured about one model on one holdout, for the gate and the model card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from sluice.config.model import ModelConfig
from sluice.evaluation.bootstrap import confidence_intervals
from sluice.evaluation.curves import plot_data
from sluice.evaluation.importance import explanation_importance, permutation_importance
from sluice.evaluation.metrics import metrics_of
from sluice.evaluation.predictions import predict_holdout
from sluice.evaluation.slices import slice_metrics
from sluice.serving import ServedModel


@dataclass(frozen=True)
class HoldoutReport:
    """Metrics, their confidence intervals, per-slice metrics and (in full reports) plots and importances."""

    metrics: dict[str, float]
    intervals: dict[str, dict[str, float]]
    slices: list[dict[str, Any]]
    plots: dict[str, Any] | None = None
    importance: dict[str, dict[str, float]] | None = None
    """Permutation importance: the primary metric's drop when a feature is shuffled."""
    explanation_importance: dict[str, float] | None = None
    """Mean |contribution| per feature in the served model's ``:explain`` answers over the holdout."""

    def to_dict(self) -> dict[str, Any]:
        return {"metrics": self.metrics, "intervals": self.intervals, "slices": self.slices,
                "plots": self.plots, "importance": self.importance,
                "explanation_importance": self.explanation_importance}


def report_holdout(model: ServedModel, holdout: pd.DataFrame, config: ModelConfig, *, full: bool) -> HoldoutReport:
    """Score ``model`` on ``holdout``; ``full`` adds bootstrap intervals, plot data and feature importance (by
    permutation, and from the model's explanations)."""
    predictions = predict_holdout(model, holdout, config)
    seed = config.training.seed
    return HoldoutReport(
        metrics=metrics_of(predictions),
        intervals=confidence_intervals(predictions, config.gates.bootstrap, seed) if full else {},
        slices=slice_metrics(predictions, holdout, config),
        plots=plot_data(predictions) if full else None,
        importance=permutation_importance(model, holdout, config, seed=seed) if full else None,
        explanation_importance=explanation_importance(model, holdout, config, predictions.predicted)
        if full else None,
    )
