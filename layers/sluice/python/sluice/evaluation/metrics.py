"""Score a served (ONNX) model on holdout rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

from sluice.config.model import ModelConfig
from sluice.evaluation.errors import EvaluationError
from sluice.serving import MAX_INSTANCES, OnnxModel, Prediction
from sluice.training.features import category_text, instances_from_frame, target_values


def positive_label(config: ModelConfig, classes: tuple[str, ...]) -> str:
    """The positive class of a binary task: the second configured target value, else ``classes[1]``."""
    configured = config.contract.target_values
    if configured is not None and len(configured) == 2:
        label = category_text(configured[1])
        if label in classes:
            return label
    return classes[1]


def score(model: OnnxModel, holdout: pd.DataFrame, config: ModelConfig) -> dict[str, float]:
    """Metrics of ``model`` on ``holdout``, predicted through ONNX exactly as the endpoint does.

    Classification: roc_auc, accuracy, f1, log_loss. Regression: rmse, mae, r2.
    """
    if model.signature.task != config.task:
        raise EvaluationError(f"a {model.signature.task} model cannot be scored as {config.task}")
    if len(holdout) < 2:
        raise EvaluationError(f"the holdout needs at least 2 rows, it has {len(holdout)}")
    truth = target_values(holdout, config)
    prediction = _predict(model, holdout, config)
    try:
        if model.signature.classes is None:
            return _regression(truth.to_numpy(dtype=np.float64), np.asarray(prediction.outputs, dtype=np.float64))
        return _classification(truth.tolist(), prediction, model.signature.classes, config)
    except ValueError as error:
        raise EvaluationError(f"cannot score the holdout: {error}") from error


def _predict(model: OnnxModel, holdout: pd.DataFrame, config: ModelConfig) -> Prediction:
    instances = instances_from_frame(holdout, config)
    outputs: list[object] = []
    probabilities: list[dict[str, float]] = []
    for start in range(0, len(instances), MAX_INSTANCES):
        batch = model.predict(instances[start : start + MAX_INSTANCES])
        outputs.extend(batch.outputs)
        probabilities.extend(batch.probabilities or [])
    return Prediction(outputs=outputs, probabilities=probabilities or None)


def _classification(
    truth: list[str], prediction: Prediction, classes: tuple[str, ...], config: ModelConfig
) -> dict[str, float]:
    unknown = sorted(set(truth) - set(classes))
    if unknown:
        raise EvaluationError(f"the holdout has labels the model never learned: {unknown}")
    if len(set(truth)) < 2:
        raise EvaluationError(f"the holdout holds a single class ({truth[0]!r}); roc_auc is undefined")
    matrix = np.array([[row[label] for label in classes] for row in prediction.probabilities or []])
    matrix = matrix / matrix.sum(axis=1, keepdims=True)
    predicted = [str(label) for label in prediction.outputs]
    if len(classes) == 2:
        positive = positive_label(config, classes)
        column = classes.index(positive)
        auc = roc_auc_score([label == positive for label in truth], matrix[:, column])
        f1 = f1_score(truth, predicted, pos_label=positive, average="binary")
    else:
        auc = roc_auc_score(truth, matrix, multi_class="ovr", labels=list(classes))
        f1 = f1_score(truth, predicted, labels=list(classes), average="macro")
    return {
        "roc_auc": float(auc),
        "accuracy": float(accuracy_score(truth, predicted)),
        "f1": float(f1),
        "log_loss": float(log_loss(truth, matrix, labels=list(classes))),
    }


def _regression(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "rmse": float(root_mean_squared_error(truth, predicted)),
        "mae": float(mean_absolute_error(truth, predicted)),
        "r2": float(r2_score(truth, predicted)),
    }
