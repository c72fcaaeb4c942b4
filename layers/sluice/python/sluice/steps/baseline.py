"""Write the training baseline of a new model version next to its artifacts (drift compares with it)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sluice.config import ModelConfig
from sluice.monitoring.baseline import BASELINE_FILE, Kind, build_baseline
from sluice.storage import ObjectWriter, model_artifact_key
from sluice.training import feature_frame

PREDICT_ROWS = 100_000
"""Rows the pipeline predicts at a time: its preprocessing copies only this many rows, whatever the data's size."""


def write_baseline(store: ObjectWriter, model: ModelConfig, version: int, train: pd.DataFrame, pipeline: Any) -> str:
    """Profile the training features and the model's predictions on them; returns the baseline's key."""
    return write_feature_baseline(store, model, version, feature_frame(train, model), pipeline)


def write_feature_baseline(store: ObjectWriter, model: ModelConfig, version: int, features: pd.DataFrame,
                           pipeline: Any, *, predict_rows: int = PREDICT_ROWS) -> str:
    """:func:`write_baseline` of training rows already shaped by ``feature_frame`` (every row profiled, the
    predictions made ``predict_rows`` at a time)."""
    kinds: dict[str, Kind] = {spec.name: "categorical" if spec.is_categorical else "numeric"
                              for spec in model.contract.features}
    columns = {name: _column(features[name], kinds[name]) for name in kinds}
    predicted = np.concatenate([np.asarray(pipeline.predict(features.iloc[start:start + predict_rows]))
                                for start in range(0, len(features), predict_rows)])
    prediction_kind: Kind = "categorical" if model.task == "classification" else "numeric"
    predictions = predicted.astype(str).astype(object) if prediction_kind == "categorical" else predicted
    baseline = build_baseline(columns, kinds, predictions, prediction_kind)
    key = model_artifact_key(model.name, version, BASELINE_FILE)
    store.put_json(key, baseline.to_dict())
    return key


def _column(series: pd.Series, kind: Kind) -> np.ndarray:
    if kind == "numeric":
        return series.to_numpy(dtype=np.float64)
    return np.asarray([None if value == "" else value for value in series.tolist()], dtype=object)
