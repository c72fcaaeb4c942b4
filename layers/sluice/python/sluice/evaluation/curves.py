"""The data behind a model card's plots: ROC/PR curves, confusion matrix, calibration, residuals."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve

from sluice.evaluation.metrics import calibration_bins
from sluice.evaluation.predictions import HoldoutPredictions

MAX_POINTS = 200
"""Curves and scatters are thinned to at most this many points (the card stays small)."""


def plot_data(predictions: HoldoutPredictions) -> dict[str, Any]:
    """Classification: roc, pr (positive class, or micro-averaged one-vs-rest), confusion, calibration.
    Regression: predicted-vs-actual and residual points."""
    if predictions.probabilities is None:
        rows = _thin(len(predictions))
        truth, predicted = predictions.truth[rows], predictions.predicted[rows]
        return {"kind": "regression",
                "points": [[round(float(p), 6), round(float(t), 6)] for p, t in zip(predicted, truth, strict=True)]}
    truth, scores = _binary_view(predictions)
    fpr, tpr, _ = roc_curve(truth, scores)
    precision, recall, _ = precision_recall_curve(truth, scores)
    classes = list(predictions.classes or ())
    matrix = confusion_matrix(predictions.truth.tolist(), predictions.predicted.tolist(), labels=classes)
    return {
        "kind": "classification",
        "roc": _curve(fpr, tpr),
        "pr": _curve(recall[::-1], precision[::-1]),
        "positive": predictions.positive or "micro-average (one-vs-rest)",
        "prevalence": float(np.mean(truth)),
        "confusion": {"labels": classes, "matrix": matrix.tolist()},
        "calibration": calibration_bins(predictions),
    }


def _binary_view(predictions: HoldoutPredictions) -> tuple[np.ndarray, np.ndarray]:
    matrix, classes = predictions.probabilities, predictions.classes
    assert matrix is not None and classes is not None
    if predictions.positive is not None:
        return (predictions.truth == predictions.positive).astype(int), matrix[:, classes.index(predictions.positive)]
    onehot = predictions.truth[:, None] == np.asarray(classes, dtype=object)[None, :]
    return onehot.astype(int).ravel(), matrix.ravel()


def _curve(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    rows = _thin(len(x))
    return [[round(float(a), 5), round(float(b), 5)] for a, b in zip(x[rows], y[rows], strict=True)]


def _thin(count: int) -> np.ndarray:
    if count <= MAX_POINTS:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, MAX_POINTS).round().astype(int))
