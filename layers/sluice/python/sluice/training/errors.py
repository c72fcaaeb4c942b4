"""Errors raised while preparing data, training candidates or exporting the winner."""

from __future__ import annotations


class FrameError(ValueError):
    """A data frame does not have the columns or types the model's contract promises."""


class TrainingError(ValueError):
    """No model could be trained from the data (too few rows, a single class, an unsplittable frame)."""


class ExportError(TrainingError):
    """The trained pipeline could not be exported to ONNX, or the export disagrees with it."""
