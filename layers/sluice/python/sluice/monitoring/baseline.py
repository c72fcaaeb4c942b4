"""The training baseline: per-feature histograms, quantiles and category frequencies, computed once.

Written next to the model artifacts (``models/<model>/<version>/baseline.json``) when the version is
trained, so drift detection compares live traffic with it and never recomputes the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

Kind = Literal["numeric", "categorical"]
QUANTILES = 1001
"""Evenly spaced quantiles kept per numeric feature (Wasserstein and KS are computed from them)."""
SMALL_CARDINALITY = 20
"""A numeric feature with at most this many distinct values is binned by value, not by range."""
MAX_CATEGORIES = 200
OTHER = "__other__"
BASELINE_FILE = "baseline.json"
PREDICTION = "prediction"


@dataclass(frozen=True)
class NumericProfile:
    """A numeric column: moments, histogram on fixed edges (plus open tails), and its quantile function."""

    rows: int
    missing: int
    mean: float
    std: float
    min: float
    max: float
    edges: tuple[float, ...]
    """Bin edges: bin 0 is (-inf, edges[0]), bin i is [edges[i-1], edges[i]), the last is [edges[-1], inf)."""
    counts: tuple[int, ...]
    quantiles: tuple[float, ...]
    kind: Kind = "numeric"


@dataclass(frozen=True)
class CategoricalProfile:
    """A categorical column: the frequency of each category (rare ones pooled as ``__other__``)."""

    rows: int
    missing: int
    categories: tuple[str, ...]
    counts: tuple[int, ...]
    kind: Kind = "categorical"


Profile = NumericProfile | CategoricalProfile


@dataclass(frozen=True)
class Baseline:
    """The reference of one model version: its training features and its predictions on them."""

    features: dict[str, Profile]
    prediction: Profile | None
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "features": {name: asdict(p) for name, p in self.features.items()},
                "prediction": None if self.prediction is None else asdict(self.prediction)}

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Baseline:
        prediction = document.get("prediction")
        return cls(features={name: _profile(body) for name, body in document["features"].items()},
                   prediction=None if prediction is None else _profile(prediction), rows=int(document["rows"]))


def profile(values: np.ndarray, kind: Kind) -> Profile:
    """Profile one column (numeric: float array with NaN for missing; categorical: strings, None missing)."""
    if kind == "numeric":
        return numeric_profile(np.asarray(values, dtype=np.float64))
    return categorical_profile(values)


def build_baseline(columns: Mapping[str, np.ndarray], kinds: Mapping[str, Kind],
                   prediction: np.ndarray | None = None, prediction_kind: Kind = "categorical") -> Baseline:
    """The baseline of a training set (``columns``) and of the model's predictions on it."""
    features = {name: profile(columns[name], kinds[name]) for name in kinds}
    rows = len(next(iter(columns.values()))) if columns else 0
    return Baseline(features=features, rows=rows,
                    prediction=None if prediction is None else profile(prediction, prediction_kind))


def numeric_profile(values: np.ndarray) -> NumericProfile:
    valid = np.sort(values[~np.isnan(values)])
    if valid.size == 0:
        raise ValueError("a numeric column with no values cannot be profiled")
    edges = bin_edges(valid)
    return NumericProfile(
        rows=int(values.size), missing=int(values.size - valid.size), mean=float(valid.mean()),
        std=float(valid.std()), min=float(valid[0]), max=float(valid[-1]), edges=tuple(edges.tolist()),
        counts=tuple(sorted_counts(valid, edges).tolist()),
        quantiles=tuple(sorted_quantiles(valid, QUANTILES).tolist()),
    )


def categorical_profile(values: np.ndarray) -> CategoricalProfile:
    categories, counts, missing = count_categories(values)
    order = np.argsort(-counts, kind="stable")
    categories, counts = [categories[i] for i in order], counts[order]
    if len(categories) > MAX_CATEGORIES:
        rest = int(counts[MAX_CATEGORIES - 1 :].sum())
        categories, counts = [*categories[: MAX_CATEGORIES - 1], OTHER], np.append(counts[: MAX_CATEGORIES - 1], rest)
    return CategoricalProfile(rows=len(values), missing=missing, categories=tuple(categories),
                              counts=tuple(int(c) for c in counts))


def count_categories(values: Any) -> tuple[list[str], np.ndarray, int]:
    """(categories, counts, missing) of a column of strings; hash-based, so fast on millions of rows."""
    import pandas as pd

    series = pd.Series(values, dtype=object, copy=False)
    missing = int(series.isna().sum())
    counts = series.value_counts(dropna=True, sort=False)
    return [str(key) for key in counts.index], counts.to_numpy(dtype=np.int64), missing


def bin_edges(sorted_valid: np.ndarray) -> np.ndarray:
    """Sturges equal-width edges over the reference range, or value midpoints for low-cardinality columns."""
    distinct = np.unique(sorted_valid) if sorted_valid.size <= 10 * SMALL_CARDINALITY else _few_distinct(sorted_valid)
    if distinct is not None and distinct.size <= SMALL_CARDINALITY:
        return (distinct[:-1] + distinct[1:]) / 2 if distinct.size > 1 else distinct.astype(np.float64)
    edges = np.histogram_bin_edges(sorted_valid, bins="sturges")
    edges[-1] = np.nextafter(edges[-1], np.inf)  # the maximum belongs to the last in-range bin
    return edges


def _few_distinct(sorted_valid: np.ndarray) -> np.ndarray | None:
    changes = np.flatnonzero(np.diff(sorted_valid)) + 1
    if changes.size >= SMALL_CARDINALITY:
        return None
    return np.concatenate([sorted_valid[:1], sorted_valid[changes]])


def sorted_counts(sorted_valid: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin of a sorted array (len(edges) + 1 bins) by binary search: O(bins · log n)."""
    positions = np.searchsorted(sorted_valid, edges, side="left")
    return np.diff(positions, prepend=0, append=sorted_valid.size)


def sorted_quantiles(sorted_valid: np.ndarray, count: int) -> np.ndarray:
    """``count`` evenly spaced quantiles (linear interpolation) of a sorted array, without re-sorting."""
    position = np.linspace(0.0, 1.0, count) * (sorted_valid.size - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, sorted_valid.size - 1)
    fraction = position - low
    result: np.ndarray = sorted_valid[low] + fraction * (sorted_valid[high] - sorted_valid[low])
    return result


def _profile(body: Mapping[str, Any]) -> Profile:
    if body["kind"] == "numeric":
        return NumericProfile(
            rows=int(body["rows"]), missing=int(body["missing"]), mean=float(body["mean"]), std=float(body["std"]),
            min=float(body["min"]), max=float(body["max"]), edges=tuple(body["edges"]),
            counts=tuple(body["counts"]), quantiles=tuple(body["quantiles"]))
    return CategoricalProfile(rows=int(body["rows"]), missing=int(body["missing"]),
                              categories=tuple(body["categories"]), counts=tuple(body["counts"]))
