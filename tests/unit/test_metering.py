"""The local Lambda's meter: measured durations by default, scripted per model version in tests."""

from __future__ import annotations

from itertools import pairwise

import pytest

from sluice.local.metering import METER_ENV, Behaviour, MeasuredMeter, ScriptedMeter, meter_from_env


def test_the_measured_meter_reports_what_was_measured_and_injects_nothing() -> None:
    # GIVEN the default meter WHEN a request is metered THEN its measured duration stands and it never fails
    meter = MeasuredMeter()
    assert meter.duration_ms("m", 1, 12.5) == 12.5
    assert not any(meter.fails("m", 1) for _ in range(100))


def test_a_scripted_version_takes_its_scripted_time_whatever_was_measured() -> None:
    # GIVEN v2 scripted at 300 ms, v1 not scripted
    meter = ScriptedMeter()
    meter.set("m", 2, latency_ms=300.0)
    # WHEN requests are metered, however long they really took
    # THEN v2 reports 300 ms, v1 and other models the default 20 ms, and nothing fails
    assert meter.duration_ms("m", 2, 0.1) == meter.duration_ms("m", 2, 5000.0) == 300.0
    assert meter.duration_ms("m", 1, 5000.0) == meter.duration_ms("other", 2, 1.0) == 20.0
    assert meter.duration_ms("m", None, 5000.0) == 20.0
    assert not any(meter.fails("m", 2) for _ in range(50))


@pytest.mark.parametrize(("rate", "requests", "failed"), [(0.1, 100, 10), (0.1, 9, 0), (0.29, 100, 29), (1.0, 7, 7),
                                                           (0.5, 5, 2)])
def test_injected_failures_are_exact_and_even(rate: float, requests: int, failed: int) -> None:
    # GIVEN v3 scripted to fail ``rate`` of its requests
    meter = ScriptedMeter()
    meter.set("m", 3, error_rate=rate)
    # WHEN ``requests`` requests reach it (and some reach v1 in between)
    outcomes = []
    for _ in range(requests):
        outcomes.append(meter.fails("m", 3))
        assert not meter.fails("m", 1)
    # THEN exactly floor(requests x rate) failed, never two in a row below a 50 % rate
    assert sum(outcomes) == failed
    if rate <= 0.5:
        assert not any(a and b for a, b in pairwise(outcomes))


def test_setting_one_field_keeps_the_other() -> None:
    # GIVEN v2 slow WHEN it is also made to fail THEN it is still slow
    meter = ScriptedMeter()
    meter.set("m", 2, latency_ms=80.0)
    meter.set("m", 2, error_rate=1.0)
    assert meter.behaviour("m", 2) == Behaviour(latency_ms=80.0, error_rate=1.0)
    assert meter.fails("m", 2)


@pytest.mark.parametrize(("field", "value"), [("latency_ms", -1.0), ("latency_ms", float("nan")),
                                              ("error_rate", 1.5), ("error_rate", -0.1)])
def test_an_impossible_script_is_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        ScriptedMeter().set("m", 2, **{field: value})


def test_the_environment_names_the_meter_of_a_stack_started_without_one() -> None:
    # GIVEN no setting, "measured", " Scripted " WHEN read THEN measured, measured, scripted
    assert isinstance(meter_from_env({}), MeasuredMeter)
    assert isinstance(meter_from_env({METER_ENV: "measured"}), MeasuredMeter)
    assert isinstance(meter_from_env({METER_ENV: " Scripted "}), ScriptedMeter)
    # AND a value that names no meter is refused, naming the variable and the choices
    with pytest.raises(ValueError, match="SLUICE_LOCAL_METER='fast': expected 'measured' or 'scripted'"):
        meter_from_env({METER_ENV: "fast"})
