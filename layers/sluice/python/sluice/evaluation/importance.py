"""Permutation feature importance, measured through the served (ONNX) model on the holdout."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sluice.config.model import LOWER_IS_BETTER, ModelConfig
from sluice.evaluation.errors import EvaluationError
from sluice.evaluation.metrics import metric_value
from sluice.evaluation.predictions import predict_instances
from sluice.serving import ServedModel
from sluice.training.features import instances_from_frame, target_values


def permutation_importance(
    model: ServedModel, holdout: pd.DataFrame, config: ModelConfig, *, repeats: int = 3, seed: int = 0
) -> dict[str, dict[str, float]]:
    """``{feature: {"mean", "std"}}``: how much the primary metric worsens when the feature is shuffled.

    Sorted from most to least important; a feature whose shuffling never hurts scores about 0.
    """
    metric = config.gates.primary_metric
    instances = instances_from_frame(holdout, config)
    truth = target_values(holdout, config)
    baseline = metric_value(predict_instances(model, instances, truth, config), metric)
    worse = -1.0 if metric in LOWER_IS_BETTER else 1.0
    rng = np.random.default_rng(seed)
    result: dict[str, dict[str, float]] = {}
    for feature in config.contract.feature_names:
        column = [instance[feature] for instance in instances]
        drops = []
        for _ in range(repeats):
            shuffled = rng.permutation(len(column))
            permuted = [{**instance, feature: column[j]} for instance, j in zip(instances, shuffled, strict=True)]
            try:
                value = metric_value(predict_instances(model, permuted, truth, config), metric)
            except EvaluationError:
                continue
            drops.append(worse * (baseline - value))
        if drops:
            result[feature] = {"mean": float(np.mean(drops)), "std": float(np.std(drops))}
    return dict(sorted(result.items(), key=lambda item: -item[1]["mean"]))
