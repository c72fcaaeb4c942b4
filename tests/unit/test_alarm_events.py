"""evaluated_since: the start of the data an alarm judged, read from its state change event."""

from __future__ import annotations

import json

from sluice.clock import parse_time
from sluice.events.alarms import evaluated_since
from tests.conftest import load_event


def _state(reason_data: object, timestamp: str = "2026-11-27T11:04:40.989+0000") -> dict[str, object]:
    return {"value": "ALARM", "timestamp": timestamp,
            "reasonData": reason_data if isinstance(reason_data, str) else json.dumps(reason_data)}


def test_the_start_date_is_taken_when_given() -> None:
    state = _state({"startDate": "2026-11-27T11:01:00.000+0000", "period": 60, "recentDatapoints": [1.0]})
    assert evaluated_since(state) == "2026-11-27T11:01:00.000+0000"


def test_else_the_earliest_evaluated_datapoint() -> None:
    state = _state({"evaluatedDatapoints": [{"timestamp": "2026-11-27T11:03:00.000+0000", "value": 2.0},
                                            {"timestamp": "2026-11-27T11:02:00.000+0000", "value": 1.0}]})
    assert evaluated_since(state) == "2026-11-27T11:02:00.000+0000"


def test_else_the_periods_counted_back_from_the_state_change() -> None:
    # the repository's sample event: one 60 s datapoint
    state = load_event("alarm_state_change.json")["detail"]["state"]
    since = evaluated_since(state)
    assert since is not None
    assert parse_time(state["timestamp"]) - parse_time(since) == 60


def test_composite_or_unreadable_reason_data_says_nothing() -> None:
    assert evaluated_since(_state({"triggeringAlarms": [{"arn": "arn:aws:cloudwatch:...:alarm:x"}]})) is None
    assert evaluated_since(_state("not json")) is None
    assert evaluated_since({"value": "ALARM"}) is None
