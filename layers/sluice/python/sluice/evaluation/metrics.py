"""Metrics by task, computed on holdout predictions made through the served (ONNX) model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

from sluice.config.model import CLASSIFICATION_METRICS, REGRESSION_METRICS, ModelConfig
from sluice.evaluation.errors import EvaluationError
from sluice.evaluation.predictions import HoldoutPredictions, predict_holdout
from sluice.serving import ServedModel

CALIBRATION_BINS = 10


def score(model: ServedModel, holdout: pd.DataFrame, config: ModelConfig) -> dict[str, float]:
    """Metrics of ``model`` on ``holdout``, predicted through ONNX exactly as the endpoint does.

    Classification: roc_auc, pr_auc, accuracy, f1, log_loss, brier, ece. Regression: rmse, mae, r2.
    """
    return metrics_of(predict_holdout(model, holdout, config))


def metrics_of(predictions: HoldoutPredictions) -> dict[str, float]:
    """Every metric of the task; raise ``EvaluationError`` if the rows cannot be scored."""
    names = CLASSIFICATION_METRICS if predictions.is_classification else REGRESSION_METRICS
    return {name: metric_value(predictions, name) for name in names}


def metric_value(predictions: HoldoutPredictions, name: str) -> float:
    """One metric. Binary tasks score the positive class; multiclass uses one-vs-rest AUCs and macro F1.

    brier is the positive class's mean squared error (binary) or the sum over classes (multiclass); ece is the
    expected calibration error over 10 equal-width bins of the positive (binary) or top-label probability.
    """
    try:
        if predictions.probabilities is None:
            return _regression(predictions.truth, predictions.predicted, name)
        return _classification(predictions, name)
    except ValueError as error:
        raise EvaluationError(f"cannot score the holdout: {error}") from error


def calibration_bins(predictions: HoldoutPredictions) -> list[dict[str, float]]:
    """Per non-empty bin: mean predicted probability, observed frequency, rows (the calibration plot)."""
    confidence, hit = _calibration_pairs(predictions)
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, CALIBRATION_BINS - 1)
    return [
        {"predicted": float(confidence[index == b].mean()), "observed": float(hit[index == b].mean()),
         "rows": int((index == b).sum())}
        for b in range(CALIBRATION_BINS) if (index == b).any()
    ]


def _classification(predictions: HoldoutPredictions, name: str) -> float:
    truth, matrix = predictions.truth, predictions.probabilities
    classes = predictions.classes
    assert matrix is not None and classes is not None
    if name == "accuracy":
        return float(accuracy_score(truth, predictions.predicted))
    if name == "log_loss":
        return float(log_loss(truth, matrix, labels=list(classes)))
    if name == "ece":
        return float(sum(b["rows"] * abs(b["predicted"] - b["observed"]) for b in calibration_bins(predictions))
                     / len(truth))
    if len(set(truth.tolist())) < 2:
        raise EvaluationError(f"the holdout holds a single class ({truth[0]!r}); {name} is undefined")
    if predictions.positive is not None:
        positive = truth == predictions.positive
        column = matrix[:, classes.index(predictions.positive)]
        if name == "roc_auc":
            return float(roc_auc_score(positive, column))
        if name == "pr_auc":
            return float(average_precision_score(positive, column))
        if name == "f1":
            return float(f1_score(truth, predictions.predicted, pos_label=predictions.positive, average="binary"))
        if name == "brier":
            return float(np.mean((column - positive) ** 2))
    else:
        onehot = (truth[:, None] == np.asarray(classes, dtype=object)[None, :]).astype(np.float64)
        if name == "roc_auc":
            return float(roc_auc_score(truth, matrix, multi_class="ovr", labels=list(classes)))
        if name == "pr_auc":
            present = onehot.sum(axis=0) > 0
            return float(average_precision_score(onehot[:, present], matrix[:, present], average="macro"))
        if name == "f1":
            return float(f1_score(truth, predictions.predicted, labels=list(classes), average="macro"))
        if name == "brier":
            return float(np.mean(np.sum((matrix - onehot) ** 2, axis=1)))
    raise EvaluationError(f"unknown classification metric {name!r}")


def _calibration_pairs(predictions: HoldoutPredictions) -> tuple[np.ndarray, np.ndarray]:
    """(probability, outcome) pairs: the positive class (binary) or the top label (multiclass)."""
    matrix, classes = predictions.probabilities, predictions.classes
    assert matrix is not None and classes is not None
    if predictions.positive is not None:
        column = classes.index(predictions.positive)
        return matrix[:, column], (predictions.truth == predictions.positive).astype(np.float64)
    return matrix.max(axis=1), (predictions.truth == predictions.predicted).astype(np.float64)


def _regression(truth: np.ndarray, predicted: np.ndarray, name: str) -> float:
    if name == "rmse":
        return float(root_mean_squared_error(truth, predicted))
    if name == "mae":
        return float(mean_absolute_error(truth, predicted))
    if name == "r2":
        value = float(r2_score(truth, predicted))
        return value if math.isfinite(value) else math.nan
    raise EvaluationError(f"unknown regression metric {name!r}")
