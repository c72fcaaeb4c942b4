"""The embedded local AWS: the same functions, run in-process on moto, dispatched by the wiring."""

from __future__ import annotations

from sluice.local.metering import Behaviour, InjectedFailureError, MeasuredMeter, Meter, ScriptedMeter
from sluice.local.runtime import LocalCloud, TimelineEntry

__all__ = [
    "Behaviour", "InjectedFailureError", "LocalCloud", "MeasuredMeter", "Meter", "ScriptedMeter", "TimelineEntry",
]
