"""The wiring: which trigger starts which function. Read by infra/ and by the local runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
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
        SageMakerJobTrigger,
        ScheduleTrigger,
        routes_for,
        routes_in_use,
    )

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
