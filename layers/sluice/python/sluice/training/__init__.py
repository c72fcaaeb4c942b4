"""Train candidate pipelines, pick the best by cross-validation, export it to ONNX."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.training.errors import ExportError, FrameError, TrainingError
    from sluice.training.export import TARGET_OPSET, TOLERANCE, ExportedModel, export_onnx, signature_for
    from sluice.training.families import build_estimator, build_pipeline, build_preprocessor, key_params
    from sluice.training.features import category_text, feature_frame, instances_from_frame, target_values
    from sluice.training.refit import refit_on_all
    from sluice.training.search import TrainingResult, cv_metric_for, train_best
    from sluice.training.split import split_holdout

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
