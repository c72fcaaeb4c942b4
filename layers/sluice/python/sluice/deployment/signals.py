"""The per-version signals a release is judged on: metric names, dimensions, and how a prediction is scored.

Pure and slim: the predict function imports this module to emit what the bake check reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sluice.naming import LIVE_ALIAS

NAMESPACE = "sluice"
SERVICE = "predict"  # the predict function's Powertools service dimension
LAMBDA_NAMESPACE = "AWS/Lambda"

PREDICTION_SCORE = "PredictionScore"
"""One value per predicted instance: the first class's probability, or the regression output."""
SHADOW_REQUESTS = "ShadowRequests"
SHADOW_ERRORS = "ShadowErrors"
SHADOW_AGREEMENT = "ShadowAgreement"
"""1 when the shadow model's answer equals live's (classes equal, or regression within 5 %), else 0."""
SERVER_FAULTS = "ServerFaults"
"""1 per request the predict function answered 500 (an unexpected failure, not the caller's error): a function
error in all but name, so the bake check adds it to Lambda's Errors and the server-faults alarm watches it."""
LIVE_ACCURACY = "LiveAccuracy"
"""Published by monitoring (record_feedback) once feedback exists: dimensions {model} and {model, version}."""


def version_dimensions(model: str, model_version: int | str) -> dict[str, str]:
    """The dimensions of a model version's prediction metrics (exactly these: CloudWatch matches all)."""
    return {"service": SERVICE, "model": model, "model_version": str(model_version)}


def model_dimensions(model: str) -> dict[str, str]:
    """The per-model aggregate (what the prediction-shift alarm watches, whichever version is live)."""
    return {"service": SERVICE, "model": model}


def live_accuracy_dimensions(model: str, model_version: int | str) -> dict[str, str]:
    return {"model": model, "version": str(model_version)}


def lambda_version_dimensions(function_name: str, lambda_version: str) -> dict[str, str]:
    """AWS/Lambda metrics of one version behind alias ``live``."""
    return {"FunctionName": function_name, "Resource": f"{function_name}:{LIVE_ALIAS}",
            "ExecutedVersion": lambda_version}


def prediction_scores(outputs: Sequence[Any], probabilities: Sequence[dict[str, float]] | None,
                      classes: Sequence[Any] | None) -> list[float]:
    """One number per instance whose distribution can be compared across versions."""
    if classes:
        first = str(classes[0])
        if probabilities is not None:
            return [float(row.get(first, 0.0)) for row in probabilities]
        return [1.0 if str(output) == first else 0.0 for output in outputs]
    return [float(output) for output in outputs]


def agreement(live: Sequence[Any], shadow: Sequence[Any], *, regression: bool) -> list[float]:
    """1.0 per instance where the shadow answer matches live's."""
    if regression:
        return [1.0 if abs(float(s) - float(x)) <= 0.05 * max(abs(float(x)), 1e-9) else 0.0
                for x, s in zip(live, shadow, strict=True)]
    return [1.0 if x == s else 0.0 for x, s in zip(live, shadow, strict=True)]


@dataclass(frozen=True)
class VariantStats:
    """What one version did over a window."""

    requests: float = 0.0
    errors: float = 0.0
    latency_p99_ms: float | None = None
    score_mean: float | None = None
    scores: float = 0.0
    agreement: float | None = None
    live_accuracy: float | None = None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def document(self) -> dict[str, Any]:
        return {"requests": self.requests, "errors": self.errors, "error_rate": round(self.error_rate, 6),
                "latency_p99_ms": _round(self.latency_p99_ms), "score_mean": _round(self.score_mean),
                "scores": self.scores, "agreement": _round(self.agreement),
                "live_accuracy": _round(self.live_accuracy)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
