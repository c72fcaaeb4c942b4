"""Extract an :class:`~sluice.explain.model.Explainer` from a fitted pipeline (training side: scikit-learn).

The pipeline is sluice's ``Pipeline(preprocess, estimator)`` (training/families.py): a ColumnTransformer of
median-imputed (optionally standardized) numeric columns and most-frequent-imputed one-hot string columns, then
logistic regression / ridge, a random forest or histogram gradient boosting.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sluice.explain.model import Explainer

LINEAR = ("LogisticRegression", "Ridge")
FORESTS = ("RandomForestClassifier", "RandomForestRegressor")
BOOSTING = ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")


class NotExplainableError(ValueError):
    """The pipeline has a shape this module does not know how to explain."""


def explainer_for(pipeline: Any, features: tuple[str, ...], training_frame: Any) -> Explainer:
    """The explainer of a fitted ``pipeline`` over the contract's ``features``; ``training_frame`` gives the
    training mean of the design matrix (the linear base value)."""
    preprocess, estimator = pipeline.named_steps["preprocess"], pipeline.named_steps["estimator"]
    arrays, meta = _preprocessing(preprocess, features)
    classes = [str(label) for label in estimator.classes_] if hasattr(estimator, "classes_") else None
    meta["classes"] = classes
    kind = type(estimator).__name__
    if kind in LINEAR:
        design = np.asarray(preprocess.transform(training_frame), dtype=np.float64)
        arrays.update(_linear(estimator, design))
        meta.update(method="linear", raw="log-odds" if classes else "value")
    elif kind in FORESTS:
        arrays.update(_forest(estimator))
        meta.update(method="tree_paths", raw="probability" if classes else "value",
                    tree_scale=1.0 / len(estimator.estimators_))
    elif kind in BOOSTING:
        arrays.update(_boosting(estimator))
        meta.update(method="tree_paths", raw="log-odds" if classes else "value", tree_scale=1.0,
                    float32_thresholds=True)
    else:
        raise NotExplainableError(f"no explainer for {kind}")
    return Explainer(features, arrays, meta)


def explainer_or_none(pipeline: Any, features: tuple[str, ...], training_frame: Any) -> Explainer | None:
    """:func:`explainer_for`, or None for a pipeline it cannot explain (the model is served without ``:explain``)."""
    try:
        return explainer_for(pipeline, features, training_frame)
    except NotExplainableError:
        return None


def _preprocessing(preprocess: Any, features: tuple[str, ...]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"numeric": [], "categorical": [], "fills": [], "categories": []}
    owner: list[int] = []
    for name, transformer, columns in preprocess.transformers_:
        if name == "numeric":
            imputer = transformer.steps[0][1]
            arrays["medians"] = np.asarray(imputer.statistics_, dtype=np.float64)
            if len(transformer.steps) > 1:
                scaler = transformer.steps[1][1]
                arrays["mean"] = np.asarray(scaler.mean_, dtype=np.float64)
                arrays["scale"] = np.asarray(scaler.scale_, dtype=np.float64)
            meta["numeric"] = list(columns)
            owner += [features.index(column) for column in columns]
        elif name == "categorical":
            imputer, encoder = transformer.steps[0][1], transformer.steps[1][1]
            meta["categorical"] = list(columns)
            meta["fills"] = [str(value) for value in imputer.statistics_]
            meta["categories"] = [[str(value) for value in values] for values in encoder.categories_]
            for column, values in zip(columns, encoder.categories_, strict=True):
                owner += [features.index(column)] * len(values)
        elif name != "remainder":
            raise NotExplainableError(f"unknown preprocessing step {name!r}")
    arrays["owner"] = np.asarray(owner, dtype=np.int64)
    return arrays, meta


def _linear(estimator: Any, design: np.ndarray) -> dict[str, np.ndarray]:
    coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64))
    return {"coef": coef, "intercept": intercept, "z_mean": design.mean(axis=0)}


def _forest(forest: Any) -> dict[str, np.ndarray]:
    trees = []
    for tree in (member.tree_ for member in forest.estimators_):
        leaf = tree.children_left == -1
        value = np.asarray(tree.value[:, 0, :], dtype=np.float64)
        if hasattr(forest, "classes_"):
            value = value / value.sum(axis=1, keepdims=True)
        trees.append(_expected(tree.feature, tree.threshold, tree.children_left, tree.children_right, leaf, value,
                               np.asarray(tree.weighted_n_node_samples, dtype=np.float64)))
    return _concatenated(trees, offset=np.zeros(trees[0]["value"].shape[1]))


def _boosting(model: Any) -> dict[str, np.ndarray]:
    outputs = model.n_trees_per_iteration_
    trees = []
    for iteration in model._predictors:
        for column, predictor in enumerate(iteration):
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                raise NotExplainableError("categorical splits inside gradient boosting are not explained")
            value = np.zeros((len(nodes), outputs))
            value[:, column] = nodes["value"]
            trees.append(_expected(nodes["feature_idx"], nodes["num_threshold"], nodes["left"], nodes["right"],
                                   nodes["is_leaf"].astype(bool), value, nodes["count"].astype(np.float64)))
    offset = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
    return _concatenated(trees, offset=np.broadcast_to(offset, (outputs,)).copy())


def _expected(feature: Any, threshold: Any, left: Any, right: Any, leaf: np.ndarray, value: np.ndarray,
              weight: np.ndarray) -> dict[str, np.ndarray]:
    """One tree with every inner node's value replaced by the weight-averaged value of the leaves below it."""
    expected = value.copy()
    for node in _post_order(np.asarray(left), np.asarray(right), leaf):
        if not leaf[node]:
            low, high = int(left[node]), int(right[node])
            expected[node] = ((weight[low] * expected[low] + weight[high] * expected[high])
                              / (weight[low] + weight[high]))
    return {"feature": np.asarray(feature, dtype=np.int64), "threshold": np.asarray(threshold, dtype=np.float64),
            "left": np.asarray(left, dtype=np.int64), "right": np.asarray(right, dtype=np.int64), "leaf": leaf,
            "value": expected}


def _post_order(left: np.ndarray, right: np.ndarray, leaf: np.ndarray) -> list[int]:
    order: list[int] = []
    stack = [(0, False)]
    while stack:
        node, expanded = stack.pop()
        if leaf[node] or expanded:
            order.append(node)
            continue
        stack += [(node, True), (int(right[node]), False), (int(left[node]), False)]
    return order


def _concatenated(trees: list[dict[str, np.ndarray]], *, offset: np.ndarray) -> dict[str, np.ndarray]:
    """All trees in one set of arrays (child indices shifted), with each tree's root."""
    roots, shifted, start = [], [], 0
    for tree in trees:
        roots.append(start)
        moved = dict(tree)
        moved["left"] = np.where(tree["leaf"], -1, tree["left"] + start)
        moved["right"] = np.where(tree["leaf"], -1, tree["right"] + start)
        shifted.append(moved)
        start += len(tree["leaf"])
    joined = {key: np.concatenate([tree[key] for tree in shifted]) for key in ("feature", "threshold", "left",
                                                                              "right", "leaf", "value")}
    joined["feature"] = np.where(joined["leaf"], 0, joined["feature"])
    joined["roots"] = np.asarray(roots, dtype=np.int64)
    joined["offset"] = offset
    return joined
