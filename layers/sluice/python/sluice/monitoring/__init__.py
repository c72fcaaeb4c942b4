"""Monitoring: the training baseline, drift detection, captured traffic, live quality, reports, retrain guard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.monitoring.baseline import BASELINE_FILE, Baseline, CategoricalProfile, NumericProfile, build_baseline
    from sluice.monitoring.drift import DriftResult, FeatureDrift, detect_drift

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
