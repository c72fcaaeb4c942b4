"""Score candidates through their ONNX export and gate them against floors and the live model."""

from __future__ import annotations

from sluice.evaluation.errors import EvaluationError
from sluice.evaluation.gates import GateDecision, decide
from sluice.evaluation.metrics import positive_label, score

__all__ = ["EvaluationError", "GateDecision", "decide", "positive_label", "score"]
