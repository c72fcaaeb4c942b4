"""What the predict function contributes to a release: per-version prediction metrics, and shadow scoring.

Every answered request emits the distribution of its predictions (EMF, one value per instance) under the
serving model version, which a bake check compares across versions. While the model has a shadow release in
progress, the live function also loads the shadow version (sha256-verified, cached; the release record is
re-read at most every ``ttl_s``), scores the same instances in-process and records its answers and agreement;
users only ever get live's answer. The predict service calls ``observe`` after the response
(``sluice.predict.after``), so the shadow's lookup, load and scoring never delay the user or count in the live
function's ``Duration``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sluice.clock import Clock, system_clock
from sluice.deployment import signals
from sluice.endpoint import PinnedModel
from sluice.serving import Prediction, ServedModel

MAX_VALUES = 100  # an EMF metric carries at most 100 values: larger batches are sampled to their first 100
SHADOW_TTL_S = 30.0

ShadowSource = Callable[[str], PinnedModel | None]
Loader = Callable[[PinnedModel], ServedModel]
Emitter = Callable[[str, dict[str, str], dict[str, list[float]]], None]


def emf_emitter(name_space: str = signals.NAMESPACE) -> Emitter:
    """Print one Embedded Metric Format document per dimension set (CloudWatch Logs turns it into metrics).

    Written directly rather than through a Powertools metrics object: this runs on every request.
    """

    def emit(_: str, dimensions: dict[str, str], values: dict[str, list[float]]) -> None:
        finite = {metric: kept for metric, points in values.items()
                  if (kept := [p for p in points[:MAX_VALUES] if math.isfinite(p)])}
        if not finite:
            return
        metrics = [{"Name": metric, "Unit": "None" if metric == signals.PREDICTION_SCORE else "Count"}
                   for metric in finite]
        directive = {"Namespace": name_space, "Dimensions": [list(dimensions)], "Metrics": metrics}
        document = {"_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [directive]},
                    **dimensions, **finite}
        print(json.dumps(document, separators=(",", ":")))

    return emit


@dataclass
class _CachedShadow:
    checked_at: float
    pinned: PinnedModel | None
    model: ServedModel | None = None


class ReleaseTelemetry:
    """Called after every answered prediction; never fails the request."""

    def __init__(self, model_name: str, pinned: PinnedModel | None, *, shadow_source: ShadowSource | None,
                 loader: Loader, emit: Emitter | None = None, log: Callable[[dict[str, Any]], None] | None = None,
                 clock: Clock = system_clock, ttl_s: float = SHADOW_TTL_S) -> None:
        self._model_name = model_name
        self._pinned = pinned
        self._shadow_source = shadow_source
        self._loader = loader
        self._emit = emit or emf_emitter()
        self._log = log
        self._clock = clock
        self._ttl_s = ttl_s
        self._shadow: _CachedShadow | None = None

    def observe(self, instances: list[dict[str, Any]], prediction: Prediction, model: ServedModel) -> None:
        try:
            self._observe(instances, prediction, model)
        except Exception as error:  # telemetry never fails a prediction
            self._record({"error": f"release telemetry failed: {type(error).__name__}: {error}"})

    def _observe(self, instances: list[dict[str, Any]], prediction: Prediction, model: ServedModel) -> None:
        if self._pinned is None:
            return
        classes = model.signature.classes
        scores = signals.prediction_scores(prediction.outputs, prediction.probabilities, classes)
        self._emit(signals.PREDICTION_SCORE, signals.version_dimensions(self._model_name, self._pinned.version),
                   {signals.PREDICTION_SCORE: scores})
        self._emit(signals.PREDICTION_SCORE, signals.model_dimensions(self._model_name),
                   {signals.PREDICTION_SCORE: scores})
        shadow = self._shadow_model()
        if shadow is not None:
            self._score_shadow(shadow, instances, prediction, regression=classes is None)

    def _score_shadow(self, shadow: tuple[PinnedModel, ServedModel], instances: list[dict[str, Any]],
                      live: Prediction, *, regression: bool) -> None:
        pinned, model = shadow
        dimensions = signals.version_dimensions(self._model_name, pinned.version)
        started = time.perf_counter()
        try:
            answer = model.predict(instances)
        except Exception as error:  # the shadow must never hurt live traffic
            self._emit(signals.SHADOW_ERRORS, dimensions, {signals.SHADOW_REQUESTS: [1.0],
                                                           signals.SHADOW_ERRORS: [1.0]})
            self._record({"shadow_version": pinned.version, "error": f"{type(error).__name__}: {error}"})
            return
        agreement = signals.agreement(live.outputs, answer.outputs, regression=regression)
        self._emit(signals.SHADOW_REQUESTS, dimensions, {
            signals.SHADOW_REQUESTS: [1.0], signals.SHADOW_ERRORS: [0.0], signals.SHADOW_AGREEMENT: agreement,
            signals.PREDICTION_SCORE: signals.prediction_scores(answer.outputs, answer.probabilities,
                                                                model.signature.classes),
        })
        self._record({"shadow_version": pinned.version, "live_version": self._pinned.version if self._pinned else None,
                      "live": live.outputs[:MAX_VALUES], "shadow": answer.outputs[:MAX_VALUES],
                      "agreement": sum(agreement) / len(agreement) if agreement else None,
                      "shadow_ms": round((time.perf_counter() - started) * 1000, 3)})

    def _shadow_model(self) -> tuple[PinnedModel, ServedModel] | None:
        now = self._clock()
        cached = self._shadow
        if cached is None or now - cached.checked_at >= self._ttl_s:
            pinned = self._lookup()
            keep = cached is not None and cached.pinned == pinned
            cached = _CachedShadow(now, pinned, cached.model if keep and cached is not None else None)
            self._shadow = cached
        if cached.pinned is None or (self._pinned is not None and cached.pinned.version == self._pinned.version):
            return None
        if cached.model is None:
            try:
                cached.model = self._loader(cached.pinned)
            except Exception as error:
                self._emit(signals.SHADOW_ERRORS, signals.version_dimensions(self._model_name, cached.pinned.version),
                           {signals.SHADOW_REQUESTS: [1.0], signals.SHADOW_ERRORS: [1.0]})
                self._record({"shadow_version": cached.pinned.version, "error": f"load failed: {error}"})
                return None
        return cached.pinned, cached.model

    def _lookup(self) -> PinnedModel | None:
        if self._shadow_source is None:
            return None
        try:
            return self._shadow_source(self._model_name)
        except Exception as error:
            self._record({"error": f"shadow lookup failed: {error}"})
            return None

    def _record(self, record: dict[str, Any]) -> None:
        if self._log is not None:
            self._log({"model": self._model_name, **record})


def registry_shadow_source(registry_of: Callable[[], Any]) -> ShadowSource:
    """The shadow version of a model's release in progress, with its registered sha256 (None otherwise); the
    registry is made by ``registry_of`` at the first lookup (after a response)."""

    def lookup(model: str) -> PinnedModel | None:
        registry = registry_of()
        deployment = registry.get_deployment(model)
        if deployment is None or deployment.strategy != "shadow":
            return None
        version = registry.get_version(model, deployment.version)
        return PinnedModel(model, version.version, version.artifact_sha256)

    return lookup
