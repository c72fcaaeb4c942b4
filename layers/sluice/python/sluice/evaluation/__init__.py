"""Score candidates through their ONNX export, report them (intervals, slices, plots) and gate them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.evaluation.bootstrap import confidence_intervals
    from sluice.evaluation.curves import plot_data
    from sluice.evaluation.errors import EvaluationError
    from sluice.evaluation.gates import GateDecision, decide
    from sluice.evaluation.importance import permutation_importance
    from sluice.evaluation.metrics import calibration_bins, metric_value, metrics_of, score
    from sluice.evaluation.predictions import HoldoutPredictions, positive_label, predict_holdout
    from sluice.evaluation.report import HoldoutReport, report_holdout
    from sluice.evaluation.slices import slice_masks, slice_metrics

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
