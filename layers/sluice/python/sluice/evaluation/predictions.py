"""Predict a holdout through the served (ONNX) model, once, for every metric, slice and plot."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sluice.config.model import ModelConfig
from sluice.evaluation.errors import EvaluationError
from sluice.serving import MAX_INSTANCES, ServedModel, answering_violations
from sluice.training.features import instances_from_frame, target_values


@dataclass(frozen=True)
class HoldoutPredictions:
    """Truth and predictions on holdout rows, in row order.

    Classification: ``truth``/``predicted`` are labels, ``probabilities`` is ``[rows, classes]`` (rows sum to 1).
    Regression: ``truth``/``predicted`` are floats and ``probabilities`` is None.
    """

    truth: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray | None
    classes: tuple[str, ...] | None
    positive: str | None

    def __len__(self) -> int:
        return len(self.truth)

    @property
    def is_classification(self) -> bool:
        return self.classes is not None

    def subset(self, rows: np.ndarray) -> HoldoutPredictions:
        """The same predictions restricted to ``rows`` (a boolean mask or indices)."""
        probabilities = None if self.probabilities is None else self.probabilities[rows]
        return HoldoutPredictions(self.truth[rows], self.predicted[rows], probabilities, self.classes, self.positive)


def positive_label(config: ModelConfig, classes: tuple[str, ...]) -> str:
    """The positive class of a binary task: the contract's ``positive``, else ``classes[1]`` (sorted labels)."""
    configured = config.positive_class
    return configured if configured is not None and configured in classes else classes[1]


def predict_holdout(model: ServedModel, holdout: pd.DataFrame, config: ModelConfig) -> HoldoutPredictions:
    """Predict ``holdout`` exactly as the endpoint does (request-sized batches of JSON-like instances)."""
    if model.signature.task != config.task:
        raise EvaluationError(f"a {model.signature.task} model cannot be scored as {config.task}")
    if len(holdout) < 2:
        raise EvaluationError(f"the holdout needs at least 2 rows, it has {len(holdout)}")
    return predict_instances(model, instances_from_frame(holdout, config), target_values(holdout, config), config)


def predict_instances(
    model: ServedModel, instances: list[dict[str, object]], truth: pd.Series, config: ModelConfig
) -> HoldoutPredictions:
    """Predict prepared ``instances`` whose true targets are ``truth``."""
    outputs: list[object] = []
    probabilities: list[dict[str, float]] = []
    model = answering_violations(model)  # a live model scored on a newer contract's holdout answers every row
    for start in range(0, len(instances), MAX_INSTANCES):
        batch = model.predict(instances[start : start + MAX_INSTANCES])
        outputs.extend(batch.outputs)
        probabilities.extend(batch.probabilities or [])
    classes = model.signature.classes
    if classes is None:
        return HoldoutPredictions(truth.to_numpy(dtype=np.float64), np.asarray(outputs, dtype=np.float64),
                                  None, None, None)
    labels = np.asarray(truth.tolist(), dtype=object)
    unknown = sorted(set(labels.tolist()) - set(classes))
    if unknown:
        raise EvaluationError(f"the holdout has labels the model never learned: {unknown}")
    matrix = np.array([[row[label] for label in classes] for row in probabilities], dtype=np.float64)
    # float32 model outputs may stray past [0, 1] by rounding (-1e-7, 1.0000013): clipped, then each row sums to 1
    matrix = np.clip(matrix, 0.0, 1.0)
    matrix = matrix / matrix.sum(axis=1, keepdims=True)
    positive = positive_label(config, classes) if len(classes) == 2 else None
    return HoldoutPredictions(labels, np.asarray([str(label) for label in outputs], dtype=object), matrix,
                              classes, positive)
