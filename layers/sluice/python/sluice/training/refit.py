"""Refit an approved pipeline on every row (train + holdout), same family and hyperparameters."""

from __future__ import annotations

import time

import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from sluice.config.model import ModelConfig
from sluice.explain.build import explainer_or_none
from sluice.training.errors import TrainingError
from sluice.training.families import key_params
from sluice.training.features import feature_frame, target_values
from sluice.training.search import TrainingResult


def refit_on_all(pipeline: Pipeline, frame: pd.DataFrame, model: ModelConfig, *, family: str) -> TrainingResult:
    """A fresh clone of ``pipeline`` (its hyperparameters, none of its fitted state) fitted on ``frame``.

    The classes must be those the gated pipeline learned, so the served signature does not change.
    """
    started = time.perf_counter()
    if model.training.time_column is not None:
        frame = frame.sort_values(model.training.time_column, kind="stable")
    features = feature_frame(frame, model)
    refitted = clone(pipeline).fit(features, target_values(frame, model))
    estimator, gated = refitted.named_steps["estimator"], pipeline.named_steps["estimator"]
    classes = None
    if model.task == "classification":
        classes = tuple(str(label) for label in estimator.classes_)
        if classes != tuple(str(label) for label in gated.classes_):
            raise TrainingError(f"the refit learned classes {classes}, not the gated model's "
                                f"{tuple(str(label) for label in gated.classes_)}")
    return TrainingResult(
        pipeline=refitted, family=family, params=key_params(family, estimator), cv={}, cv_metric="",
        feature_names=model.contract.feature_names, classes=classes, training_rows=len(frame),
        duration_s=time.perf_counter() - started,
        explainer=explainer_or_none(refitted, model.contract.feature_names, features),
    )
