"""Shape a data frame the way the pipeline, the ONNX model and the endpoint all expect it.

Numeric features become float64 (missing: NaN). String and bool features become text (missing: ``""``,
booleans ``"true"``/``"false"``), the same spelling the endpoint produces from JSON.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sluice.config.model import ModelConfig
from sluice.contract.values import BOOL_TEXT
from sluice.training.errors import FrameError


def category_text(value: Any) -> str:
    """Spell one categorical value (feature or class label) as text; missing becomes ``""``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return BOOL_TEXT[bool(value)]
    if value is None or pd.isna(value):
        return ""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def feature_frame(frame: pd.DataFrame, model: ModelConfig) -> pd.DataFrame:
    """The contract's feature columns, in contract order, typed for training and for ONNX."""
    _require_columns(frame, model.contract.feature_names)
    columns: dict[str, pd.Series] = {}
    for spec in model.contract.features:
        series = frame[spec.name]
        if spec.is_categorical:
            columns[spec.name] = _texts(series)
        else:
            columns[spec.name] = _numeric(series, spec.name)
    return pd.DataFrame(columns, index=frame.index)


def target_values(frame: pd.DataFrame, model: ModelConfig) -> pd.Series:
    """The target column: class labels as text (classification) or float64 values (regression)."""
    target = model.contract.target
    _require_columns(frame, (target,))
    series = frame[target]
    missing = int(series.isna().sum())
    if missing:
        raise FrameError(f"target {target!r} has {missing} missing values")
    if model.task == "classification":
        return _texts(series)
    return _numeric(series, target)


def instances_from_frame(frame: pd.DataFrame, model: ModelConfig) -> list[dict[str, Any]]:
    """One request instance (feature name → JSON-like value) per row, as a client would send them
    (a missing number is ``None``, JSON's null)."""
    features = feature_frame(frame, model)
    numeric = [spec.name for spec in model.contract.features if not spec.is_categorical]
    records: list[dict[str, Any]] = features.to_dict(orient="records")
    for record in records:
        for name in numeric:
            if record[name] != record[name]:  # NaN
                record[name] = None
    return records


def _texts(series: pd.Series) -> pd.Series:
    """``category_text`` of every value; in a typed column each distinct text is one shared object (millions of
    rows of a few labels hold a few strings, not one per row). Object columns, whose equal-hashing values may
    spell differently (``1``, ``1.0``, ``True``), are spelled value by value."""
    if series.dtype == object:
        return pd.Series([category_text(value) for value in series.tolist()], index=series.index, dtype=object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    spelled = np.array([*(category_text(value) for value in uniques), category_text(None)], dtype=object)
    return pd.Series(spelled[codes], index=series.index, dtype=object)  # code -1 (missing) is the last: ""


def _numeric(series: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        raise FrameError(f"column {name!r} holds booleans but the contract declares it numeric")
    try:
        return pd.to_numeric(series, errors="raise").astype("float64")
    except (TypeError, ValueError) as error:
        raise FrameError(f"column {name!r} is not numeric: {error}") from error


def _require_columns(frame: pd.DataFrame, names: tuple[str, ...]) -> None:
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise FrameError(f"the data has no column {', '.join(repr(name) for name in missing)}")
