"""Train candidate pipelines, pick the best by cross-validation, export it to ONNX."""

from __future__ import annotations

from sluice.training.errors import ExportError, FrameError, TrainingError
from sluice.training.export import TARGET_OPSET, TOLERANCE, ExportedModel, export_onnx, signature_for
from sluice.training.families import build_estimator, build_pipeline, build_preprocessor, key_params
from sluice.training.features import category_text, feature_frame, instances_from_frame, target_values
from sluice.training.refit import refit_on_all
from sluice.training.search import TrainingResult, cv_metric_for, train_best
from sluice.training.split import split_holdout

__all__ = [
    "TARGET_OPSET",
    "TOLERANCE",
    "ExportError",
    "ExportedModel",
    "FrameError",
    "TrainingError",
    "TrainingResult",
    "build_estimator",
    "build_pipeline",
    "build_preprocessor",
    "category_text",
    "cv_metric_for",
    "export_onnx",
    "feature_frame",
    "instances_from_frame",
    "key_params",
    "refit_on_all",
    "signature_for",
    "split_holdout",
    "target_values",
    "train_best",
]
