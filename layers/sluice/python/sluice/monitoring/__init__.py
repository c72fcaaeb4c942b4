"""Monitoring: the training baseline, drift detection, captured traffic, live quality, reports, retrain guard."""

from __future__ import annotations

from sluice.monitoring.baseline import BASELINE_FILE, Baseline, CategoricalProfile, NumericProfile, build_baseline
from sluice.monitoring.drift import DriftResult, FeatureDrift, detect_drift

__all__ = [
    "BASELINE_FILE",
    "Baseline",
    "CategoricalProfile",
    "DriftResult",
    "FeatureDrift",
    "NumericProfile",
    "build_baseline",
    "detect_drift",
]
