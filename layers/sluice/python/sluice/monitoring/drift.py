"""Drift of current data against a stored baseline: vectorized numpy/scipy, one sort per numeric column.

Numeric features: PSI (baseline bins), Wasserstein distance normed by the reference std and the two-sample
KS test (both from the quantile functions). Categorical features: chi-square test, Jensen-Shannon distance
and PSI. Zero frequencies are filled as Evidently does, so the statistics mean the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial import distance

from sluice.config.monitoring import MonitoringSettings
from sluice.monitoring.baseline import (
    OTHER,
    PREDICTION,
    Baseline,
    CategoricalProfile,
    NumericProfile,
    Profile,
    count_categories,
    sorted_counts,
    sorted_quantiles,
)

NUMERIC_STATISTICS = ("psi", "wasserstein", "ks", "jensenshannon")
CATEGORICAL_STATISTICS = ("chisquare", "jensenshannon", "psi")
MIN_STD = 0.001
KS_ASYMPTOTIC_N = 10_000


@dataclass(frozen=True)
class FeatureDrift:
    """One column's verdict: the configured method's statistic against its threshold, and every statistic."""

    name: str
    kind: str
    method: str
    value: float
    threshold: float
    drifted: bool
    statistics: dict[str, float]
    rows: int
    missing_share: float
    labels: tuple[str, ...] = ()
    reference: tuple[float, ...] = ()
    current: tuple[float, ...] = ()
    """Shares per bin or category, for the report's plots."""


@dataclass(frozen=True)
class DriftResult:
    """Every feature's verdict, the prediction's, and the dataset verdict."""

    features: tuple[FeatureDrift, ...]
    prediction: FeatureDrift | None
    rows: int
    drift_share: float
    detected: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def drifted_features(self) -> tuple[str, ...]:
        return tuple(feature.name for feature in self.features if feature.drifted)

    @property
    def drifted_share(self) -> float:
        return len(self.drifted_features) / len(self.features) if self.features else 0.0


def detect_drift(baseline: Baseline, current: Mapping[str, Any], settings: MonitoringSettings, *,
                 prediction: Any = None, all_statistics: bool = True) -> DriftResult:
    """Compare ``current`` columns (feature → array) and predictions with ``baseline``.

    ``all_statistics`` computes every statistic of each column (for the report); otherwise only the
    configured method's.
    """
    features = tuple(
        column_drift(name, profile, current[name], settings, all_statistics=all_statistics)
        for name, profile in baseline.features.items()
    )
    predicted = None
    if baseline.prediction is not None and prediction is not None:
        predicted = column_drift(PREDICTION, baseline.prediction, prediction, settings, all_statistics=all_statistics)
    rows = max((feature.rows for feature in features), default=0)
    share = sum(feature.drifted for feature in features) / len(features) if features else 0.0
    detected = share >= settings.drift_share or bool(predicted and predicted.drifted)
    return DriftResult(features=features, prediction=predicted, rows=rows, drift_share=settings.drift_share,
                       detected=detected)


def column_drift(name: str, profile: Profile, values: Any, settings: MonitoringSettings, *,
                 all_statistics: bool = True) -> FeatureDrift:
    wanted: tuple[str, ...]
    if isinstance(profile, NumericProfile):
        method = settings.numeric_method
        wanted = NUMERIC_STATISTICS if all_statistics else (method,)
        statistics, labels, reference, current, rows, missing = _numeric(profile, values, wanted)
    else:
        method = settings.categorical_method
        wanted = CATEGORICAL_STATISTICS if all_statistics else (method,)
        statistics, labels, reference, current, rows, missing = _categorical(profile, values, wanted)
    value = statistics[method]
    return FeatureDrift(
        name=name, kind=profile.kind, method=method, value=value, threshold=settings.threshold(method),
        drifted=settings.drifted(method, value), statistics=statistics, rows=rows,
        missing_share=missing / rows if rows else 0.0, labels=labels,
        reference=tuple(reference.tolist()), current=tuple(current.tolist()),
    )


def _numeric(profile: NumericProfile, values: Any, wanted: tuple[str, ...]
             ) -> tuple[dict[str, float], tuple[str, ...], np.ndarray, np.ndarray, int, int]:
    array = np.asarray(values, dtype=np.float64)
    ordered = np.sort(array)  # NaN sorts last
    valid = ordered[: array.size - int(np.isnan(array).sum())]
    edges = np.asarray(profile.edges)
    ref_counts = np.asarray(profile.counts, dtype=np.float64)
    cur_counts = sorted_counts(valid, edges).astype(np.float64) if valid.size else np.zeros_like(ref_counts)
    ref_share, cur_share = _shares(ref_counts), _shares(cur_counts)
    out: dict[str, float] = {}
    if "psi" in wanted:
        out["psi"] = psi(ref_share, cur_share)
    if "jensenshannon" in wanted:
        out["jensenshannon"] = float(distance.jensenshannon(ref_share, cur_share)) if valid.size else 1.0
    if valid.size and ({"wasserstein", "ks"} & set(wanted)):
        ref_q = np.asarray(profile.quantiles)
        cur_q = sorted_quantiles(valid, ref_q.size)
        if "wasserstein" in wanted:
            gap = np.abs(ref_q - cur_q)  # W1 = integral of |F_ref^-1(u) - F_cur^-1(u)| du (trapezoid rule)
            area = float((gap[:-1] + gap[1:]).sum() / 2 / (gap.size - 1))
            out["wasserstein"] = area / max(profile.std, MIN_STD)
        if "ks" in wanted:
            out["ks"] = ks_p_value(ref_q, valid, cur_q, profile.rows - profile.missing)
    elif not valid.size:
        out.update({"wasserstein": float("inf"), "ks": 0.0})
    labels = _bin_labels(edges)
    return out, labels, ref_share, cur_share, int(array.size), int(array.size - valid.size)


def _categorical(profile: CategoricalProfile, values: Any, wanted: tuple[str, ...]
                 ) -> tuple[dict[str, float], tuple[str, ...], np.ndarray, np.ndarray, int, int]:
    if isinstance(values, Mapping):  # already counted (e.g. by pyarrow)
        names, counts, missing = [str(k) for k in values if k is not None], None, int(values.get(None, 0))
        counts = np.asarray([values[k] for k in values if k is not None], dtype=np.int64)
        rows = int(counts.sum()) + missing
    else:
        names, counts, missing = count_categories(values)
        rows = len(values)
    known = {category: index for index, category in enumerate(profile.categories)}
    other = known.get(OTHER)
    cur = np.zeros(len(profile.categories), dtype=np.float64)
    new: dict[str, float] = {}
    for category, count in zip(names, counts.tolist(), strict=True):
        index = known.get(category, other)
        if index is None:
            new[category] = new.get(category, 0.0) + count
        else:
            cur[index] += count
    labels = (*profile.categories, *new)
    ref_counts = np.concatenate([np.asarray(profile.counts, dtype=np.float64), np.zeros(len(new))])
    cur_counts = np.concatenate([cur, np.asarray(list(new.values()), dtype=np.float64)])
    ref_share, cur_share = _shares(ref_counts), _shares(cur_counts)
    out: dict[str, float] = {}
    if "chisquare" in wanted:
        out["chisquare"] = chisquare_p_value(ref_counts, cur_counts)
    if "jensenshannon" in wanted:
        out["jensenshannon"] = float(distance.jensenshannon(ref_share, cur_share)) if cur_counts.sum() else 1.0
    if "psi" in wanted:
        out["psi"] = psi(ref_share, cur_share)
    return out, tuple(labels), ref_share, cur_share, rows, missing


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index of two share vectors (zero shares filled as Evidently fills them)."""
    ref, cur = _fill_zeroes(reference), _fill_zeroes(current)
    return float(np.sum((ref - cur) * np.log(ref / cur)))


def chisquare_p_value(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Pearson chi-square goodness of fit of the current counts to the reference frequencies."""
    total_ref, total_cur = reference_counts.sum(), current_counts.sum()
    if total_cur == 0 or total_ref == 0:
        return 0.0
    expected = reference_counts * (total_cur / total_ref)
    present = expected > 0
    if np.any(current_counts[~present] > 0):
        return 0.0  # a category the reference never saw
    statistic = float(np.sum((current_counts[present] - expected[present]) ** 2 / expected[present]))
    dof = int(present.sum()) - 1
    return float(stats.chi2.sf(statistic, dof)) if dof > 0 else 1.0


def ks_p_value(ref_quantiles: np.ndarray, current_sorted: np.ndarray, current_quantiles: np.ndarray,
               reference_rows: int) -> float:
    """Two-sample KS p-value, the reference given by its quantile function (D is exact to 1/len(quantiles))."""
    grid = np.linspace(0.0, 1.0, ref_quantiles.size)
    cur_at_ref = np.searchsorted(current_sorted, ref_quantiles, side="right") / current_sorted.size
    ref_at_cur = np.interp(current_quantiles, ref_quantiles, grid)
    statistic = float(max(np.max(np.abs(cur_at_ref - grid)), np.max(np.abs(ref_at_cur - grid))))
    n, m = reference_rows, current_sorted.size
    effective = max(round(n * m / (n + m)), 1)
    if effective > KS_ASYMPTOTIC_N:  # Kolmogorov's limit: within 0.5% of kstwo here, and never slow
        return float(stats.kstwobign.sf(statistic * np.sqrt(effective)))
    return float(stats.kstwo.sf(statistic, effective))


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts.astype(np.float64)


def _fill_zeroes(shares: np.ndarray) -> np.ndarray:
    nonzero = shares[shares != 0]
    if nonzero.size == 0:
        return np.full_like(shares, 1.0 / max(shares.size, 1))
    smallest = float(nonzero.min())
    fill = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return np.where(shares == 0, fill, shares)


def _bin_labels(edges: np.ndarray) -> tuple[str, ...]:
    if edges.size == 0:
        return ("all",)
    inner = [f"[{low:.4g}, {high:.4g})" for low, high in pairwise(edges.tolist())]
    return (f"< {edges[0]:.4g}", *inner, f">= {edges[-1]:.4g}")
