"""Per-slice metrics for the slice columns a model's gates declare."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from sluice.config.model import CLASSIFICATION_METRICS, REGRESSION_METRICS, ModelConfig, SliceGate
from sluice.evaluation.errors import EvaluationError
from sluice.evaluation.metrics import metric_value
from sluice.evaluation.predictions import HoldoutPredictions
from sluice.training.features import category_text

MISSING = "(missing)"


def slice_masks(holdout: pd.DataFrame, gate: SliceGate, config: ModelConfig) -> list[tuple[str, np.ndarray]]:
    """``(slice name, row mask)``: one slice per value of a categorical column, quantile bins of a numeric one.

    Bins are cut on the holdout itself, so every model scored on the same holdout sees the same slices.
    """
    values = holdout[gate.column]
    if config.contract.column(gate.column).is_categorical:
        text = np.array([category_text(value) or MISSING for value in values.tolist()], dtype=object)
        return [(f"{gate.column}={label}", text == label) for label in sorted(set(text.tolist()))]
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    present = ~np.isnan(numbers)
    edges: list[float] = []
    if present.any():
        edges = np.unique(np.quantile(numbers[present], np.linspace(0, 1, gate.bins + 1))).tolist()
    masks: list[tuple[str, np.ndarray]] = []
    for index, (low, high) in enumerate(pairwise(edges)):
        last = index == len(edges) - 2
        mask = present & (numbers >= low) & ((numbers <= high) if last else (numbers < high))
        masks.append((f"{gate.column} in [{low:.4g}, {high:.4g}{']' if last else ')'}", mask))
    if (~present).any():
        masks.append((f"{gate.column}={MISSING}", ~present))
    return masks


def slice_metrics(
    predictions: HoldoutPredictions, holdout: pd.DataFrame, config: ModelConfig
) -> list[dict[str, Any]]:
    """One entry per declared slice: column, slice, rows and its metrics (a metric is None where undefined)."""
    names = CLASSIFICATION_METRICS if predictions.is_classification else REGRESSION_METRICS
    entries: list[dict[str, Any]] = []
    for gate in config.gates.slices:
        for name, mask in slice_masks(holdout, gate, config):
            rows = predictions.subset(mask)
            metrics = {metric: _defined(rows, metric) for metric in names}
            entries.append({"column": gate.column, "slice": name, "rows": len(rows), "metrics": metrics})
    return entries


def _defined(predictions: HoldoutPredictions, metric: str) -> float | None:
    if len(predictions) < 2:
        return None
    try:
        value = metric_value(predictions, metric)
    except EvaluationError:
        return None
    return value if np.isfinite(value) else None
