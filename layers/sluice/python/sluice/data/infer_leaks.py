"""Spot features that are the target in disguise: a monotone one-to-one transform of a numeric target
(logwage next to wage), or a column that separates the classes perfectly (today's return next to its sign)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa

from sluice.config.model import ColumnType, Task
from sluice.data.convert import convert

MIN_LEAK_ROWS = 20
MIN_CLASS_ROWS = 5
MONOTONE_SPEARMAN = 0.995


def leak_reason(feature: pa.Array, kind: ColumnType, target: pa.Array, task: Task) -> str | None:
    """Why ``feature`` (sample values of contract type ``kind``) looks derived from ``target``, or None."""
    if task == "regression":
        if kind not in ("int", "float"):
            return None
        return _monotone(_floats(feature), _floats(target))
    labels = convert(target, "string").values.to_pylist()
    if kind in ("int", "float"):
        return _threshold(_floats(feature), labels)
    return _pure_categories(convert(feature, kind).values.to_pylist(), labels)


def _floats(array: pa.Array) -> np.ndarray:
    values = convert(array, "float").values
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def _monotone(feature: np.ndarray, target: np.ndarray) -> str | None:
    both = np.isfinite(feature) & np.isfinite(target)
    if both.sum() < MIN_LEAK_ROWS:
        return None
    rho = spearman(feature[both], target[both])
    if abs(rho) < MONOTONE_SPEARMAN:
        return None
    direction = "increasing" if rho > 0 else "decreasing"
    return (f"suspected leak: a monotone {direction} function of the target (Spearman rho = {rho:.4f} over "
            f"{int(both.sum())} sample rows), so it is known only once the target is")


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation with average ranks for ties (0 when either side is constant)."""
    rx, ry = _ranks(x), _ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    scale = float(np.sqrt((rx * rx).sum() * (ry * ry).sum()))
    return 0.0 if scale == 0 else float((rx * ry).sum() / scale)


def _ranks(values: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average = ends - (counts - 1) / 2.0
    return np.asarray(average[inverse], dtype=np.float64)


def _threshold(feature: np.ndarray, labels: list[str | None]) -> str | None:
    """Two classes whose ranges of the feature do not overlap."""
    by_class: dict[str, list[float]] = defaultdict(list)
    for value, label in zip(feature.tolist(), labels, strict=True):
        if label is not None and np.isfinite(value):
            by_class[label].append(value)
    if len(by_class) != 2 or min(len(values) for values in by_class.values()) < MIN_CLASS_ROWS:
        return None
    (low_class, low), (high_class, high) = sorted(by_class.items(), key=lambda item: min(item[1]))
    if max(low) >= min(high):
        return None
    return (f"suspected leak: separates the classes perfectly (every {low_class!r} row has it at most "
            f"{max(low):g}, every {high_class!r} row at least {min(high):g})")


def _pure_categories(values: list[object], labels: list[str | None]) -> str | None:
    """Every value of the feature goes with a single class, and the feature tells at least two classes apart."""
    classes: dict[object, set[str]] = defaultdict(set)
    rows: dict[str, int] = defaultdict(int)
    for value, label in zip(values, labels, strict=True):
        if value is not None and label is not None:
            classes[value].add(label)
            rows[label] += 1
    if len(rows) < 2 or min(rows.values()) < MIN_CLASS_ROWS or any(len(seen) > 1 for seen in classes.values()):
        return None
    return f"suspected leak: each of its {len(classes)} values goes with a single class of the target"
