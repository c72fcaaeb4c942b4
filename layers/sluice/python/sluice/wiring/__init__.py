"""The wiring: which trigger starts which function. Read by infra/ and by the local runtime."""

from __future__ import annotations

from sluice.wiring.functions import FUNCTIONS, FunctionSpec, Packaging, packaging_for
from sluice.wiring.routes import (
    DRIFT_SCHEDULE_KIND,
    QUALITY_ALARM_KIND,
    RETRAIN_SCHEDULE_KIND,
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
    "DRIFT_SCHEDULE_KIND",
    "FUNCTIONS",
    "QUALITY_ALARM_KIND",
    "RETRAIN_SCHEDULE_KIND",
    "ROUTES",
    "AlarmTrigger",
    "BusEventTrigger",
    "FunctionSpec",
    "ObjectCreatedTrigger",
    "Packaging",
    "PatternContext",
    "Route",
    "ScheduleTrigger",
    "packaging_for",
    "routes_for",
]
