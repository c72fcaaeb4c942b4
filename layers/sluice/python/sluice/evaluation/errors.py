"""Errors raised while scoring a model."""

from __future__ import annotations


class EvaluationError(ValueError):
    """The holdout cannot be scored (empty, one class only, task mismatch, unknown labels)."""
