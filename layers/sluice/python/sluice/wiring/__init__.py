"""The wiring: which trigger starts which function. Read by infra/ and by the local runtime."""

from __future__ import annotations

from sluice.wiring.functions import FUNCTIONS, FunctionSpec, Packaging
from sluice.wiring.routes import (
    ROUTES,
    AlarmTrigger,
    BusEventTrigger,
    ObjectCreatedTrigger,
    PatternContext,
    Route,
    ScheduleTrigger,
    routes_for,
)

__all__ = [
    "FUNCTIONS",
    "ROUTES",
    "AlarmTrigger",
    "BusEventTrigger",
    "FunctionSpec",
    "ObjectCreatedTrigger",
    "Packaging",
    "PatternContext",
    "Route",
    "ScheduleTrigger",
    "routes_for",
]
