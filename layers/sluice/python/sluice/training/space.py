"""The hyperparameter search space of each family, as Optuna suggestions."""

from __future__ import annotations

from typing import Any

import optuna

from sluice.config.model import Task

DEFAULTS: dict[str, dict[str, Any]] = {
    "logistic_regression": {"C": 1.0, "class_weight": None},
    "ridge": {"alpha": 1.0},
    "random_forest": {"n_estimators": 100, "max_depth": None, "min_samples_leaf": 1},
    "hist_gradient_boosting": {
        "learning_rate": 0.1,
        "max_iter": 100,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 20,
        "l2_regularization": 0.0,
    },
}
"""Each family's untuned settings (scikit-learn's defaults): the first trial of every family."""


def defaults(family: str, task: Task) -> dict[str, Any]:
    """The untuned hyperparameters of ``family`` for ``task``."""
    params = dict(DEFAULTS[family])
    if family == "random_forest":
        params["max_features"] = "sqrt" if task == "classification" else 1.0
    return params


def suggest(trial: optuna.Trial, family: str) -> dict[str, Any]:
    """Sample the hyperparameters of ``family`` for ``trial`` (names prefixed by the family in the study)."""
    name = f"{family}."
    if family == "logistic_regression":
        return {
            "C": trial.suggest_float(f"{name}C", 1e-3, 1e2, log=True),
            "class_weight": trial.suggest_categorical(f"{name}class_weight", [None, "balanced"]),
        }
    if family == "ridge":
        return {"alpha": trial.suggest_float(f"{name}alpha", 1e-3, 1e3, log=True)}
    if family == "random_forest":
        return {
            "n_estimators": trial.suggest_int(f"{name}n_estimators", 50, 300, step=50),
            "max_depth": trial.suggest_categorical(f"{name}max_depth", [None, 4, 8, 16]),
            "min_samples_leaf": trial.suggest_int(f"{name}min_samples_leaf", 1, 10, log=True),
            "max_features": trial.suggest_categorical(f"{name}max_features", ["sqrt", "log2", 0.5, 1.0]),
        }
    if family == "hist_gradient_boosting":
        return {
            "learning_rate": trial.suggest_float(f"{name}learning_rate", 0.01, 0.3, log=True),
            "max_iter": trial.suggest_int(f"{name}max_iter", 50, 400, log=True),
            "max_leaf_nodes": trial.suggest_int(f"{name}max_leaf_nodes", 4, 64, log=True),
            "min_samples_leaf": trial.suggest_int(f"{name}min_samples_leaf", 2, 50, log=True),
            "l2_regularization": trial.suggest_float(f"{name}l2_regularization", 1e-6, 10.0, log=True),
        }
    raise ValueError(f"family {family!r} has no search space")


def enqueued(family: str, task: Task) -> dict[str, Any]:
    """The study parameters that make a trial of ``family`` run its defaults (zero becomes the lower bound)."""
    params: dict[str, Any] = {"family": family}
    for key, value in defaults(family, task).items():
        params[f"{family}.{key}"] = 1e-6 if key == "l2_regularization" and value == 0.0 else value
    return params
