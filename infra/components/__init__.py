"""Constructs per concern; each takes keyword-only parameters and exposes its resources as attributes."""

from __future__ import annotations

from infra.components.bus import EventBusWithArchive
from infra.components.endpoint import Endpoint
from infra.components.functions import Functions
from infra.components.permissions import ACCESS, Access, grant_access
from infra.components.state import StateTables
from infra.components.storage import Storage
from infra.components.wiring import Wiring

__all__ = [
    "ACCESS",
    "Access",
    "Endpoint",
    "EventBusWithArchive",
    "Functions",
    "StateTables",
    "Storage",
    "Wiring",
    "grant_access",
]
