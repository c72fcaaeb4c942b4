"""Cross-validate every candidate family, pick the best, refit it on all training rows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline

from sluice.config.model import ModelConfig
from sluice.training.errors import TrainingError
from sluice.training.families import build_pipeline, key_params
from sluice.training.features import feature_frame, target_values

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


def cv_metric_for(model: ModelConfig, labels: pd.Series) -> tuple[str, str]:
    """``(metric name, scikit-learn scorer)``: roc_auc (binary), roc_auc_ovr (multiclass), rmse."""
    if model.task == "regression":
        return "rmse", "neg_root_mean_squared_error"
    if labels.nunique() == 2:
        return "roc_auc", "roc_auc"
    return "roc_auc_ovr", "roc_auc_ovr"


def train_best(train: pd.DataFrame, model: ModelConfig) -> TrainingResult:
    """Score each configured family by K-fold cross-validation and refit the best on ``train``."""
    started = time.perf_counter()
    features = feature_frame(train, model)
    labels = target_values(train, model)
    _check_trainable(labels, model)
    metric, scorer = cv_metric_for(model, labels)
    settings = model.training
    folds: KFold | StratifiedKFold
    if model.task == "classification":
        folds = StratifiedKFold(n_splits=settings.cv_folds, shuffle=True, random_state=settings.seed)
    else:
        folds = KFold(n_splits=settings.cv_folds, shuffle=True, random_state=settings.seed)
    sign = -1.0 if metric in LOWER_IS_BETTER_CV else 1.0
    cv: dict[str, dict[str, float]] = {}
    for family in settings.families:
        scores = sign * cross_val_score(
            build_pipeline(family, model),
            features,
            labels,
            cv=folds,
            scoring=scorer,
            n_jobs=1,
            error_score="raise",
        )
        cv[family] = {"mean": float(scores.mean()), "std": float(scores.std())}
    best = _best_family(cv, lower_is_better=metric in LOWER_IS_BETTER_CV)
    pipeline = build_pipeline(best, model).fit(features, labels)
    estimator = pipeline.named_steps["estimator"]
    classes = tuple(str(label) for label in estimator.classes_) if model.task == "classification" else None
    return TrainingResult(
        pipeline=pipeline,
        family=best,
        params=key_params(best, estimator),
        cv=cv,
        cv_metric=metric,
        feature_names=model.contract.feature_names,
        classes=classes,
        training_rows=len(train),
        duration_s=time.perf_counter() - started,
    )


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


def _best_family(cv: dict[str, dict[str, float]], *, lower_is_better: bool) -> str:
    """The best mean score; ties go to the family listed first in the config."""
    best = next(iter(cv))
    for family, result in cv.items():
        better = result["mean"] < cv[best]["mean"] if lower_is_better else result["mean"] > cv[best]["mean"]
        if better:
            best = family
    return best
