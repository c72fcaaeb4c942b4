"""Global feature importance on the holdout, measured through the served (ONNX) model two ways.

Permutation importance: how much the primary metric worsens when a feature's column is shuffled (what the model
needs the feature for, interactions included). Explanation importance: the mean |contribution| of the feature in
the model's own per-prediction explanations (``:explain``), i.e. how far it moves the raw output on average. A
feature that moves the output a lot but whose moves do not help the metric, or one correlated with another
feature (the shuffled copy is covered by its twin), can rank differently under the two; otherwise they agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sluice.config.model import LOWER_IS_BETTER, ModelConfig
from sluice.evaluation.errors import EvaluationError
from sluice.evaluation.metrics import metric_value
from sluice.evaluation.predictions import predict_instances
from sluice.explain.importance import mean_abs_contributions
from sluice.explain.model import Explanation
from sluice.serving import MAX_INSTANCES, ServedModel, answering_violations, read_instances
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


def explanation_importance(model: ServedModel, holdout: pd.DataFrame, config: ModelConfig,
                           predicted: np.ndarray | None = None) -> dict[str, float] | None:
    """``{feature: mean |contribution|}`` over the holdout, most important first, from the served model's own
    explainer (the code ``:explain`` runs, on the tensors the endpoint reads); None for a model served without one.

    ``predicted``: the holdout's predicted labels, in row order (a multiclass model explains each row's predicted
    class, as ``:explain`` does).
    """
    explainer = model.explainer()
    if explainer is None:
        return None
    signature = answering_violations(model).signature  # every row answered, as the metrics are
    instances = instances_from_frame(holdout, config)
    explanations: list[Explanation] = []
    for start in range(0, len(instances), MAX_INSTANCES):
        tensors = read_instances(instances[start : start + MAX_INSTANCES], signature).tensors
        labels = None if predicted is None else list(predicted[start : start + MAX_INSTANCES])
        explanations += explainer.explain(tensors, labels)
    return mean_abs_contributions(explanations, explainer.features)
