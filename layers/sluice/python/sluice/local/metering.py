"""What the local Lambda reports for each request through alias ``live``: its Duration, and whether it failed.

On AWS, Lambda measures every invocation and CloudWatch holds the numbers that bake checks, alarms and A/B tests
judge. The local runtime is one process on a shared machine, so its measured durations say more about the machine
than about the model. A meter decides what the runtime records:

- ``MeasuredMeter`` (the default, ``sluice local`` and the demo): the handler's measured wall-clock duration,
  and no failure the handler did not raise itself;
- ``ScriptedMeter`` (tests): durations and failures per model version, set by the test, so a release's verdict
  is the same on any machine under any load.

Whatever the meter says goes through the same path: the datapoints are put into CloudWatch (moto) and read back by
the bake check's ``CloudWatchVariantMetrics``, exactly as measured ones would be.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

METER_ENV = "SLUICE_LOCAL_METER"
"""``measured`` (the default) or ``scripted``: how a local stack started without an explicit meter meters its
requests (``scripted`` lets a test or a CI job run ``sluice demo`` with verdicts independent of the machine)."""


class InjectedFailureError(RuntimeError):
    """A request the meter made fail (the runtime answers it as Lambda answers a failed function: HTTP 502)."""


class Meter(Protocol):
    def fails(self, model: str, model_version: int | None) -> bool:
        """Whether this request fails before the handler runs (checked once per request)."""
        ...

    def duration_ms(self, model: str, model_version: int | None, measured_ms: float) -> float:
        """The Duration recorded for this request (``measured_ms``: the handler's wall-clock time)."""
        ...


class MeasuredMeter:
    """The machine's own numbers: the measured duration, and only the failures that really happened."""

    def fails(self, model: str, model_version: int | None) -> bool:
        return False

    def duration_ms(self, model: str, model_version: int | None, measured_ms: float) -> float:
        return measured_ms


@dataclass(frozen=True)
class Behaviour:
    """How one model version behaves: every request takes ``latency_ms``; ``error_rate`` of them fail."""

    latency_ms: float
    error_rate: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.latency_ms) or self.latency_ms < 0:
            raise ValueError(f"latency_ms must be a finite number >= 0, not {self.latency_ms!r}")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be within [0, 1], not {self.error_rate!r}")


DEFAULT_BEHAVIOUR = Behaviour(latency_ms=20.0)
"""An unscripted version: the same duration as every other, never failing (a release of it is healthy)."""


class ScriptedMeter:
    """Durations and failures chosen by the test, per (model, model version); no randomness, no clock.

    Failures are spread evenly and deterministically: with ``error_rate`` r, request n of a version (counted from 1)
    fails when ``floor(n * r)`` grows, so exactly ``floor(N * r)`` of its first N requests fail.
    """

    def __init__(self, default: Behaviour | None = None) -> None:
        self._default = default or DEFAULT_BEHAVIOUR
        self._script: dict[tuple[str, int], Behaviour] = {}
        self._requests: dict[tuple[str, int | None], int] = {}

    def set(self, model: str, model_version: int, *, latency_ms: float | None = None,
            error_rate: float | None = None) -> None:
        """Script one version from now on (unset fields keep their current value)."""
        current = self.behaviour(model, model_version)
        self._script[(model, model_version)] = Behaviour(
            latency_ms=current.latency_ms if latency_ms is None else latency_ms,
            error_rate=current.error_rate if error_rate is None else error_rate)

    def behaviour(self, model: str, model_version: int | None) -> Behaviour:
        if model_version is None:
            return self._default
        return self._script.get((model, model_version), self._default)

    def fails(self, model: str, model_version: int | None) -> bool:
        key = (model, model_version)
        n = self._requests.get(key, 0) + 1
        self._requests[key] = n
        rate = self.behaviour(model, model_version).error_rate
        return math.floor(n * rate + 1e-9) > math.floor((n - 1) * rate + 1e-9)

    def duration_ms(self, model: str, model_version: int | None, measured_ms: float) -> float:
        return self.behaviour(model, model_version).latency_ms


def meter_from_env(env: Mapping[str, str]) -> Meter:
    """The meter ``SLUICE_LOCAL_METER`` names (measured when unset)."""
    name = env.get(METER_ENV, "").strip().lower() or "measured"
    if name == "measured":
        return MeasuredMeter()
    if name == "scripted":
        return ScriptedMeter()
    raise ValueError(f"{METER_ENV}={env[METER_ENV]!r}: expected 'measured' or 'scripted'")
