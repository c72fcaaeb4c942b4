"""Alarms for an incident, played by the local stack as CloudWatch evaluates them: an error *rate* over enough
requests rolls back, one failed request at night does not; throttling notifies and never rolls back; predictions
unlike the live version's own training baseline roll back only when its inputs did not drift.

The local runtime records what Lambda publishes for each request (Invocations, Errors per alias ``live``) and
evaluates each alarm as provisioned from the manifest (metric math, DatapointsToAlarm, TreatMissingData):
CloudWatch User Guide, "Using metric math" and "Evaluating an alarm".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sluice.deployment import signals
from sluice.registry import Status
from sluice.wiring.alarms import MIN_REQUESTS, notify_alarm_name
from tests.integration.releases import MODEL, approved, deploy, live_with, notifications, registry_of, traffic

pytestmark = pytest.mark.slow


def _state(cloud: Any, name: str) -> str:
    (alarm,) = cloud.clients.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarm["StateValue"])


def _rollbacks(cloud: Any) -> list[dict[str, Any]]:
    return [entry.detail for entry in cloud.timeline if entry.kind == "invoke" and entry.name == "rollback_model"]


def _released_v2(cloud: Any, trained: Any) -> int:
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    assert deploy(cloud, MODEL, v2)["outcome"] == "deployed"
    return v2


def test_one_failed_request_at_night_does_not_roll_back(stack: Any, trained: Any) -> None:
    # GIVEN v2 live (all at once), failing every request it serves
    cloud = stack()
    v2 = _released_v2(cloud, trained)
    cloud.meter.set(MODEL, v2, error_rate=1.0)
    errors = cloud.settings.names.endpoint_alarm(MODEL, "errors")
    # WHEN a single request arrives in each of three quiet minutes, the alarms evaluated after each
    for _ in range(3):
        assert traffic(cloud, MODEL, 1) == {"HTTP 502": 1}
        cloud.evaluate_alarms()
        cloud.advance(1)
    cloud.run_until_idle()
    # THEN the error rate is 100 % but below MIN_REQUESTS requests a minute: no ALARM, no rollback
    assert _state(cloud, errors) == "OK"
    assert _rollbacks(cloud) == []
    assert registry_of(cloud).get_alias(MODEL, "live").version == v2  # type: ignore[union-attr]


def test_a_sustained_error_rate_over_enough_requests_rolls_back(stack: Any, trained: Any) -> None:
    # GIVEN v2 live, failing 30 % of its requests
    cloud = stack()
    v2 = _released_v2(cloud, trained)
    cloud.meter.set(MODEL, v2, error_rate=0.3)
    errors = cloud.settings.names.endpoint_alarm(MODEL, "errors")
    # WHEN MIN_REQUESTS requests arrive in one minute: one breaching datapoint of the 2 needed
    traffic(cloud, MODEL, MIN_REQUESTS)
    assert cloud.evaluate_alarms() == []
    assert _state(cloud, errors) == "OK"
    # AND as many again the next minute
    cloud.advance(1)
    traffic(cloud, MODEL, MIN_REQUESTS)
    changes = cloud.evaluate_alarms()
    cloud.run_until_idle()
    # THEN the errors alarm (and the health composite over it) goes to ALARM, and the state change rolls v2 back
    assert {(change.name, change.state) for change in changes} >= {
        (errors, "ALARM"), (cloud.settings.names.endpoint_alarm(MODEL, "health"), "ALARM")}
    assert _state(cloud, errors) == "ALARM"
    assert [r["outcome"] for r in _rollbacks(cloud)].count("rolled_back") == 1
    assert registry_of(cloud).get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    assert registry_of(cloud).get_version(MODEL, v2).status is Status.ROLLED_BACK
    # AND the composite notified (its alarm action), as the topic's subscribers would see it
    assert any("health" in subject and subject.startswith("ALARM") for subject in notifications(cloud))


def test_throttling_notifies_and_never_rolls_back(stack: Any, trained: Any) -> None:
    # GIVEN v2 live, and Lambda reporting throttled requests for the predict function (its concurrency cap hit)
    cloud = stack()
    v2 = _released_v2(cloud, trained)
    function = cloud.settings.names.predict_function(MODEL)
    name = notify_alarm_name(cloud.settings.names, "throttles", MODEL)
    # WHEN two minutes each see 10 served and 10 throttled requests (what Lambda publishes per function)
    for _ in range(2):
        at = datetime.fromtimestamp(cloud.now(), tz=UTC)
        cloud.clients.cloudwatch.put_metric_data(Namespace=signals.LAMBDA_NAMESPACE, MetricData=[
            {"MetricName": metric, "Dimensions": [{"Name": "FunctionName", "Value": function}], "Value": 10.0,
             "Unit": "Count", "Timestamp": at} for metric in ("Invocations", "Throttles")])
        changes = cloud.evaluate_alarms()
        cloud.advance(1)
    cloud.run_until_idle()
    # THEN the throttle alarm is in ALARM and notified, and nothing was rolled back
    assert [(change.name, change.state) for change in changes] == [(name, "ALARM")]
    assert any(name in subject for subject in notifications(cloud))
    assert _rollbacks(cloud) == []
    assert registry_of(cloud).get_alias(MODEL, "live").version == v2  # type: ignore[union-attr]


def _drift_metrics(cloud: Any, *, prediction_drift: float, drifted_share: float) -> None:
    """What detect_drift publishes (EMF, dimensions {model}) after comparing live traffic with its baseline."""
    at = datetime.fromtimestamp(cloud.now(), tz=UTC)
    cloud.clients.cloudwatch.put_metric_data(Namespace=signals.NAMESPACE, MetricData=[
        {"MetricName": name, "Dimensions": [{"Name": "model", "Value": MODEL}], "Value": value, "Timestamp": at}
        for name, value in (("PredictionDriftScore", prediction_drift), ("DriftedFeatureShare", drifted_share))])


def test_predictions_unlike_the_live_versions_own_baseline_roll_back_only_when_its_inputs_did_not_drift(
        stack: Any, trained: Any) -> None:
    # GIVEN v2 live (breast-cancer: prediction drift by jensenshannon, threshold 0.1; drift share 0.3)
    cloud = stack()
    v2 = _released_v2(cloud, trained)
    shift = cloud.settings.names.endpoint_alarm(MODEL, "prediction-shift")
    # WHEN detect_drift finds its predictions far from its own baseline, but because most inputs drifted
    _drift_metrics(cloud, prediction_drift=0.4, drifted_share=0.6)
    cloud.evaluate_alarms()
    cloud.run_until_idle()
    # THEN that is drift, not a broken version: no ALARM, nothing rolled back
    assert _state(cloud, shift) == "OK" and _rollbacks(cloud) == []
    # WHEN an hour later its predictions are as far off while its inputs are as in training
    cloud.advance(60)
    _drift_metrics(cloud, prediction_drift=0.4, drifted_share=0.0)
    cloud.evaluate_alarms()
    cloud.run_until_idle()
    # THEN the version serves unlike it was trained: the alarm rolls it back
    assert _state(cloud, shift) == "ALARM"
    assert registry_of(cloud).get_version(MODEL, v2).status is Status.ROLLED_BACK
    assert registry_of(cloud).get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
