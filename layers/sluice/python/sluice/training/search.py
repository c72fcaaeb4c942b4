"""Search the candidate families (and, with a budget, their hyperparameters) by CV; refit the best."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit
from sklearn.pipeline import Pipeline

from sluice.config.model import ModelConfig
from sluice.explain.build import explainer_or_none
from sluice.explain.model import Explainer
from sluice.training.errors import TrainingError
from sluice.training.families import build_pipeline, key_params
from sluice.training.features import feature_frame, target_values
from sluice.training.tuning import search

LOWER_IS_BETTER_CV = frozenset({"rmse"})


@dataclass(frozen=True)
class TrainingResult:
    """The chosen, fitted pipeline and how it was chosen."""

    pipeline: Pipeline
    family: str
    params: dict[str, Any]
    cv: dict[str, dict[str, float]]
    cv_metric: str
    feature_names: tuple[str, ...]
    classes: tuple[str, ...] | None
    training_rows: int
    duration_s: float
    trials: tuple[dict[str, Any], ...] = ()
    """Every search trial: family, hyperparameters, state (complete/pruned), CV scores."""
    search: dict[str, Any] | None = None
    """How the search ran: method, sampler, pruner, budget, trial counts, best trial."""
    explainer: Explainer | None = None
    """Per-prediction explanations of ``pipeline`` (exported inside the ONNX artifact); None if not explainable."""


def cv_metric_for(model: ModelConfig, labels: pd.Series) -> tuple[str, str]:
    """``(metric name, scikit-learn scorer)``: roc_auc (binary), roc_auc_ovr (multiclass), rmse."""
    if model.task == "regression":
        return "rmse", "neg_root_mean_squared_error"
    if labels.nunique() == 2:
        return "roc_auc", "roc_auc"
    return "roc_auc_ovr", "roc_auc_ovr"


@dataclass(frozen=True)
class TrainingSet:
    """The training rows as the pipeline takes them: contract-typed features and target values."""

    features: pd.DataFrame
    labels: pd.Series


def training_set(train: pd.DataFrame, model: ModelConfig) -> TrainingSet:
    """``train``'s features and labels (time-ordered with ``training.time_column``); ``train`` is not needed after."""
    if model.training.time_column is not None:
        train = train.sort_values(model.training.time_column, kind="stable")
    return TrainingSet(feature_frame(train, model), target_values(train, model))


def train_best(train: pd.DataFrame, model: ModelConfig) -> TrainingResult:
    """Search the configured families by K-fold cross-validation and refit the best on ``train``.

    With ``training.time_column`` the rows are ordered by time and folds are forward-chaining.
    """
    started = time.perf_counter()
    return fit_best(training_set(train, model), model, started=started)


def fit_best(data: TrainingSet, model: ModelConfig, *, started: float | None = None) -> TrainingResult:
    """:func:`train_best` on rows already shaped by :func:`training_set` (the caller may drop the raw frame)."""
    started = time.perf_counter() if started is None else started
    features, labels = data.features, data.labels
    _check_trainable(labels, model)
    metric, scorer = cv_metric_for(model, labels)
    outcome = search(features, labels, model, _folds(features, labels, model), scorer,
                     lower_is_better=metric in LOWER_IS_BETTER_CV)
    pipeline = build_pipeline(outcome.family, model, outcome.params).fit(features, labels)
    estimator = pipeline.named_steps["estimator"]
    classes = tuple(str(label) for label in estimator.classes_) if model.task == "classification" else None
    return TrainingResult(
        pipeline=pipeline,
        family=outcome.family,
        params=key_params(outcome.family, estimator),
        cv=outcome.cv,
        cv_metric=metric,
        feature_names=model.contract.feature_names,
        classes=classes,
        training_rows=len(features),
        duration_s=time.perf_counter() - started,
        trials=outcome.trials,
        search=outcome.summary,
        explainer=explainer_or_none(pipeline, model.contract.feature_names, features),
    )


def _folds(features: pd.DataFrame, labels: pd.Series, model: ModelConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    settings = model.training
    splitter: KFold | StratifiedKFold | TimeSeriesSplit
    if settings.time_column is not None:
        splitter = TimeSeriesSplit(n_splits=settings.cv_folds)
    elif model.task == "classification":
        splitter = StratifiedKFold(n_splits=settings.cv_folds, shuffle=True, random_state=settings.seed)
    else:
        splitter = KFold(n_splits=settings.cv_folds, shuffle=True, random_state=settings.seed)
    return list(splitter.split(features, labels))


def _check_trainable(labels: pd.Series, model: ModelConfig) -> None:
    folds = model.training.cv_folds
    if len(labels) < 2 * folds:
        raise TrainingError(f"{len(labels)} training rows are too few for {folds}-fold cross-validation")
    if model.task != "classification":
        return
    counts = labels.value_counts()
    if len(counts) < 2:
        raise TrainingError(f"the training rows hold a single class ({counts.index[0]!r})")
    rarest = counts.idxmin()
    if counts[rarest] < folds:
        raise TrainingError(
            f"class {rarest!r} has only {counts[rarest]} training rows; "
            f"{folds}-fold cross-validation needs at least {folds}"
        )
