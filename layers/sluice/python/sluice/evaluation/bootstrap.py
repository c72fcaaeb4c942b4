"""Percentile bootstrap confidence intervals of holdout metrics."""

from __future__ import annotations

import numpy as np

from sluice.config.model import BootstrapSettings
from sluice.evaluation.errors import EvaluationError
from sluice.evaluation.metrics import metrics_of
from sluice.evaluation.predictions import HoldoutPredictions


def confidence_intervals(
    predictions: HoldoutPredictions, settings: BootstrapSettings, seed: int
) -> dict[str, dict[str, float]]:
    """``{metric: {"low", "high", "samples"}}`` from ``settings.samples`` seeded resamples of the rows.

    Resamples a metric cannot be computed on (a single class drawn) are skipped; metrics with fewer than
    half their resamples scored get no interval. ``samples = 0`` gives ``{}``.
    """
    if settings.samples == 0:
        return {}
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(settings.samples):
        rows = rng.integers(0, len(predictions), size=len(predictions))
        try:
            values = metrics_of(predictions.subset(rows))
        except EvaluationError:
            continue
        for name, value in values.items():
            if np.isfinite(value):
                draws.setdefault(name, []).append(value)
    tail = (1.0 - settings.confidence) / 2 * 100
    return {
        name: {"low": float(np.percentile(values, tail)), "high": float(np.percentile(values, 100 - tail)),
               "samples": len(values)}
        for name, values in draws.items()
        if len(values) >= settings.samples / 2
    }
