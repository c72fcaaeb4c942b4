"""The local stack's CloudWatch: metric math and alarm verdicts as the CloudWatch User Guide describes them
("Using metric math": series combine period by period, FILL supplies missing values, IF selects; "Evaluating an
alarm": M of the last N datapoints, missing data not breaching)."""

from __future__ import annotations

import pytest

from sluice.local.metric_math import UnsupportedExpressionError, evaluate, judge
from sluice.wiring.alarms import MIN_REQUESTS

RATE = f"IF(invocations >= {MIN_REQUESTS}, 100 * FILL(errors, 0) / invocations, 0)"


def test_an_error_rate_counts_only_periods_with_enough_requests() -> None:
    # GIVEN three periods: one failed request alone, 3 of 20 failed, 20 requests without an Errors datapoint
    series = {"invocations": [1.0, 20.0, 20.0], "errors": [1.0, 3.0, None]}
    # WHEN the rate expression is evaluated
    values = evaluate(RATE, series)
    # THEN the lone request yields 0, the busy minute 15 %, and the missing Errors is filled with 0
    assert values == [0.0, 15.0, 0.0]


def test_a_period_without_requests_has_no_value() -> None:
    assert evaluate(RATE, {"invocations": [None, 0.0], "errors": [None, 0.0]}) == [None, 0.0]


def test_arithmetic_precedence_comparisons_abs_and_division_by_zero() -> None:
    series = {"a": [2.0, -3.0], "b": [0.0, 4.0]}
    assert evaluate("a + b * 2 - 1", series) == [1.0, 4.0]
    assert evaluate("(a + b) * 2", series) == [4.0, 2.0]
    assert evaluate("ABS(a) / b", series) == [None, 0.75]  # x / 0 has no value
    assert evaluate("IF(a > b, 1, -1)", series) == [1.0, -1.0]


def test_m_of_n_datapoints_breach_and_missing_data_does_not() -> None:
    kwargs = {"threshold": 5.0, "comparison": "GreaterThanOrEqualToThreshold", "evaluation_periods": 3,
              "datapoints_to_alarm": 2}
    assert judge([0.0, 9.0, None, 6.0], **kwargs).state == "ALARM"  # the last 3: 9, missing, 6
    assert judge([9.0, 0.0, None, 6.0], **kwargs).state == "OK"  # only 6 of the last 3 breaches
    assert judge([None, None, None], **kwargs).state == "OK"
    assert judge([5.0, 5.0], **kwargs).breaching == 2  # the threshold itself breaches ">="


def test_what_the_local_stack_cannot_play_is_refused() -> None:
    with pytest.raises(UnsupportedExpressionError, match="ANOMALY_DETECTION_BAND"):
        evaluate("ANOMALY_DETECTION_BAND(score, 3)", {"score": [1.0]})
    with pytest.raises(UnsupportedExpressionError):
        evaluate("SEARCH('{AWS/Lambda}', 'Sum', 60)", {})
