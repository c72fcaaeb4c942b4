"""The embedded local AWS: the same functions, run in-process on moto, dispatched by the wiring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.local.metering import Behaviour, InjectedFailureError, MeasuredMeter, Meter, ScriptedMeter
    from sluice.local.runtime import LocalCloud, TimelineEntry

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
