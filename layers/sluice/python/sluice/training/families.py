"""The candidate model families: one preprocessing + estimator pipeline per family."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sluice.config.model import ModelConfig, Task

SCALED_FAMILIES = frozenset({"logistic_regression", "ridge"})
"""Families that need standardized inputs. Trees are scale-invariant and are left unscaled: a split placed
exactly on a training value would flip when ONNX scales in float32 where scikit-learn scaled in float64."""

KEY_PARAMS: dict[str, tuple[str, ...]] = {
    "logistic_regression": ("C", "l1_ratio", "solver", "max_iter", "class_weight"),
    "ridge": ("alpha", "solver", "fit_intercept"),
    "random_forest": ("n_estimators", "max_depth", "min_samples_leaf", "max_features", "bootstrap"),
    "hist_gradient_boosting": (
        "learning_rate",
        "max_iter",
        "max_leaf_nodes",
        "min_samples_leaf",
        "l2_regularization",
        "early_stopping",
    ),
}


def build_pipeline(family: str, model: ModelConfig, params: dict[str, Any] | None = None) -> Pipeline:
    """An unfitted ``Pipeline(preprocess, estimator)`` for ``family``, seeded from the config.

    ``params`` override the estimator's hyperparameters (a tuning trial's choice).
    """
    estimator = build_estimator(family, model.task, model.training.seed)
    if params:
        estimator.set_params(**params)
    return Pipeline(
        [
            ("preprocess", build_preprocessor(model, scale=family in SCALED_FAMILIES)),
            ("estimator", estimator),
        ]
    )


def build_preprocessor(model: ModelConfig, *, scale: bool) -> ColumnTransformer:
    """Impute (and optionally scale) numeric columns; impute and one-hot encode string/bool columns.

    The training time column (if any) orders the rows only; it is not a feature.
    """
    time_column = model.training.time_column
    numeric = [
        column.name for column in model.contract.features if not column.is_categorical and column.name != time_column
    ]
    categorical = [column.name for column in model.contract.features if column.is_categorical]
    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        steps: list[Any] = [SimpleImputer(strategy="median")]
        if scale:
            steps.append(StandardScaler())
        transformers.append(("numeric", make_pipeline(*steps), numeric))
    if categorical:
        encoder = make_pipeline(
            SimpleImputer(strategy="most_frequent", missing_values=""),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
        )
        transformers.append(("categorical", encoder, categorical))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


def build_estimator(family: str, task: Task, seed: int) -> BaseEstimator:
    """The seeded estimator of ``family`` for ``task`` (single-threaded)."""
    classification = task == "classification"
    if family == "logistic_regression" and classification:
        return LogisticRegression(max_iter=1000, random_state=seed)
    if family == "ridge" and not classification:
        return Ridge(alpha=1.0, random_state=seed)
    if family == "random_forest":
        forest = RandomForestClassifier if classification else RandomForestRegressor
        return forest(n_estimators=100, n_jobs=1, random_state=seed)
    if family == "hist_gradient_boosting":
        boosting = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        return boosting(random_state=seed)
    raise ValueError(f"family {family!r} does not support {task}")


def key_params(family: str, estimator: BaseEstimator) -> dict[str, Any]:
    """The family's key hyperparameters, JSON-safe."""
    params = estimator.get_params(deep=False)
    return {name: _json_safe(params[name]) for name in KEY_PARAMS[family] if name in params}


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)
