"""What a "CloudWatch Alarm State Change" event says about the data its alarm judged."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sluice.clock import iso, parse_time


def evaluated_since(state: Mapping[str, Any]) -> str | None:
    """The start (ISO-8601) of the data a metric alarm's new state was judged on, when the event says.

    From the state's ``reasonData``: its ``startDate``, else the earliest ``evaluatedDatapoints`` timestamp,
    else the state timestamp less ``period`` times the number of ``recentDatapoints``. None for alarms whose
    reason data has none of these (composite alarms) or is not readable.
    """
    try:
        reason = json.loads(state.get("reasonData") or "{}")
    except (TypeError, ValueError):
        return None
    if not isinstance(reason, dict):
        return None
    if isinstance(reason.get("startDate"), str):
        return str(reason["startDate"])
    stamps: list[str] = [point["timestamp"] for point in reason.get("evaluatedDatapoints") or []
                         if isinstance(point, dict) and isinstance(point.get("timestamp"), str)]
    if stamps:
        return min(stamps, key=parse_time)
    period, recent, changed = reason.get("period"), reason.get("recentDatapoints"), state.get("timestamp")
    if isinstance(period, int | float) and isinstance(recent, list) and recent and isinstance(changed, str):
        return iso(parse_time(changed) - float(period) * len(recent))
    return None
