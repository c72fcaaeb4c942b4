"""Rollback on ALARM at any time: mid-canary and long after a release; exact, idempotent, never onto a
rejected version; duplicate and out-of-order alarm events; a no-op (with a notification) when there is
nothing to go back to."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from sluice.clock import iso
from sluice.local import aws_events
from sluice.registry import Status
from sluice.wiring.alarms import endpoint_alarms
from tests.conftest import load_event
from tests.integration.releases import (
    MODEL,
    approved,
    check,
    deploy,
    events,
    live_with,
    notifications,
    registry_of,
    traffic,
    weights,
)

pytestmark = pytest.mark.slow
CANARY = {"strategy": "canary", "canary_weight": 0.2, "bake_minutes": 10, "checks": {"min_requests": 5}}


def _alarm(cloud: Any, *, state: str = "ALARM", at: float | None = None, kind: str = "errors") -> dict[str, Any]:
    """A "CloudWatch Alarm State Change" event of the model's alarm whose state changed at ``at``."""
    event = load_event("alarm_state_change.json")
    name = cloud.settings.names.endpoint_alarm(MODEL, kind)
    when = cloud.now() if at is None else at
    event.update({"id": str(uuid.uuid4()), "time": iso(when)[:19] + "Z"})
    event["detail"] = aws_events.alarm_state_change_detail(
        name, state=state, previous="OK" if state == "ALARM" else "ALARM", reason="test", now=when,
        metric="Errors", function_name=cloud.settings.names.predict_function(MODEL))
    return event


def _promoted_canary(cloud: Any, trained: Any) -> int:
    live_with(cloud, trained[MODEL])
    return _promoted_canary_on(cloud, trained)


def test_an_alarm_mid_canary_aborts_it_and_live_takes_all_traffic(stack: Any, trained: Any) -> None:
    # GIVEN v1 live and v2 baking as a 20% canary
    cloud = stack(breast_cancer=CANARY)
    registry = registry_of(cloud)
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    deploy(cloud, MODEL, v2)
    cloud.advance(2)
    # WHEN the endpoint's error alarm goes to ALARM
    cloud.set_alarm(MODEL, "errors")
    cloud.run_until_idle()
    # THEN the canary is aborted: v2 rolled back, v1 keeps all traffic, nothing else moved
    assert registry.get_version(MODEL, v2).status is Status.ROLLED_BACK
    assert registry.get_version(MODEL, 1).status is Status.LIVE
    assert registry.get_deployment(MODEL) is None
    assert weights(cloud, MODEL) == ("1", {})
    assert traffic(cloud, MODEL, 10).keys() == {"1"}
    (aborted,) = events(cloud, "DeploymentAborted")
    assert aborted["version"] == v2 and "alarm sluice-breast-cancer-errors" in aborted["reason"]
    assert any("aborted" in subject for subject in notifications(cloud))
    # AND a later check finds nothing to do
    cloud.advance(10)
    assert check(cloud, MODEL)["outcome"] == "idle"


def test_an_alarm_long_after_a_release_rolls_back_once(stack: Any, trained: Any) -> None:
    # GIVEN v2 promoted by its canary, and a day of quiet
    cloud = stack(breast_cancer=CANARY)
    registry = registry_of(cloud)
    v2 = _promoted_canary(cloud, trained)
    cloud.advance(24 * 60)
    # WHEN an alarm fires, and its event is delivered twice (at-least-once)
    alarm = _alarm(cloud)
    first = cloud.invoke("rollback_model", alarm)
    again = cloud.invoke("rollback_model", dict(alarm))
    cloud.run_until_idle()
    # THEN live is exactly v1 again, once
    assert first["outcome"] == "rolled_back" and (first["from_version"], first["to_version"]) == (v2, 1)
    assert again == first
    assert len(events(cloud, "ModelRolledBack")) == 1
    assert registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    assert registry.get_alias(MODEL, "previous") is None
    assert registry.get_version(MODEL, v2).status is Status.ROLLED_BACK
    assert weights(cloud, MODEL) == ("1", {})
    assert any("rolled back" in subject for subject in notifications(cloud))
    # AND the audit trail names the triggering event
    entry = next(e for e in registry.history(MODEL) if e.change == "live → rolled_back")
    assert entry.trigger == f"CloudWatch Alarm State Change {alarm['id']}"


def test_rollback_never_lands_on_a_rejected_version_and_without_previous_is_a_recorded_no_op(
        stack: Any, trained: Any) -> None:
    # GIVEN v1 live and v2 rejected by its gate
    cloud = stack(breast_cancer=CANARY)
    registry = registry_of(cloud)
    live_with(cloud, trained[MODEL])
    v2 = registry.claim_version(MODEL, data_version="d", code_version="t", lineage={}, actor="t",
                                correlation_id="c").version
    registry.transition(MODEL, v2, to=Status.CANDIDATE, reason="trained", actor="t", correlation_id="c")
    registry.transition(MODEL, v2, to=Status.REJECTED, reason="worse than live", actor="t", correlation_id="c")
    # WHEN the alarm fires
    result = cloud.invoke("rollback_model", _alarm(cloud))
    cloud.run_until_idle()
    # THEN nothing moved (v2 is not a known-good version), and that is recorded and notified
    assert result["outcome"] == "skipped" and "no previous good version" in result["reason"]
    assert registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    assert registry.get_version(MODEL, v2).status is Status.REJECTED
    assert any(entry.change == "rollback skipped" for entry in registry.history(MODEL))
    assert events(cloud, "RollbackSkipped") and any("nothing to roll back" in s for s in notifications(cloud))


def test_out_of_order_and_duplicate_incident_alarms(stack: Any, trained: Any) -> None:
    cloud = stack(breast_cancer=CANARY)
    registry = registry_of(cloud)
    # GIVEN an ALARM whose state changed while v1 alone was live, but whose event is delayed
    live_with(cloud, trained[MODEL])
    cloud.advance(1)
    delayed = _alarm(cloud)
    # AND since then v2 was released by its canary
    cloud.advance(1)
    v2 = _promoted_canary_on(cloud, trained)
    # WHEN the delayed ALARM arrives
    stale = cloud.invoke("rollback_model", delayed)
    # THEN it judged traffic that is no longer served: ignored, and recorded
    assert stale["outcome"] == "ignored" and "stale alarm" in stale["reason"]
    assert registry.get_alias(MODEL, "live").version == v2  # type: ignore[union-attr]
    assert any(entry.change == "alarm ignored" for entry in registry.history(MODEL))

    # WHEN two alarms of one incident fire together (errors and latency), then an older OK arrives
    cloud.advance(5)
    ok_before = _alarm(cloud, state="OK", at=cloud.now() - 30)
    cloud.set_alarm(MODEL, "errors")
    cloud.set_alarm(MODEL, "latency-p99")
    cloud.run_until_idle()
    late_ok = cloud.invoke("rollback_model", ok_before)
    # THEN exactly one rollback happened (the second alarm predates it), and the OK changed nothing
    outcomes = [entry.detail["outcome"] for entry in cloud.timeline
                if entry.kind == "invoke" and entry.name == "rollback_model"]
    assert outcomes.count("rolled_back") == 1 and "ignored" in outcomes
    assert late_ok["outcome"] == "ignored" and "not ALARM" in late_ok["reason"]
    assert registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    assert registry.get_version(MODEL, v2).status is Status.ROLLED_BACK


def test_the_local_stack_provisions_the_endpoint_alarms_as_cdk_defines_them(cloud: Any) -> None:
    for spec in endpoint_alarms(cloud.config.model(MODEL), cloud.settings.names):
        alarm = cloud.clients.cloudwatch.describe_alarms(AlarmNames=[spec.name])["MetricAlarms"][0]
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"], alarm["ComparisonOperator"]) == (
            spec.evaluation_periods, spec.datapoints_to_alarm, spec.comparison)
        metrics = {query["Id"]: query["MetricStat"]["Metric"]["MetricName"]
                   for query in alarm.get("Metrics") or [] if "MetricStat" in query}
        assert (metrics or {"m": alarm["MetricName"]}) == (
            {stat.id: stat.metric for stat in spec.metrics} if metrics else {"m": spec.metrics[0].metric})


def test_a_slower_alarm_of_the_same_incident_does_not_roll_back_the_restored_version(
        stack: Any, trained: Any) -> None:
    cloud = stack(breast_cancer=CANARY)
    registry = registry_of(cloud)
    # GIVEN v2 released right after v1, then rolled back to v1 by its errors alarm (one 1-minute period)
    v2 = _promoted_canary(cloud, trained)
    cloud.set_alarm(MODEL, "errors")
    cloud.run_until_idle()
    assert registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    # WHEN, a minute later, the latency alarm (3 one-minute periods, mostly v2's traffic) goes to ALARM
    cloud.advance(1)
    cloud.set_alarm(MODEL, "latency-p99")
    cloud.run_until_idle()
    # THEN it is recognised as judging the rolled-back version: ignored, recorded; v1 stays live
    outcomes = [entry.detail for entry in cloud.timeline if entry.kind == "invoke" and entry.name == "rollback_model"]
    assert [outcome["outcome"] for outcome in outcomes] == ["rolled_back", "ignored"]
    assert "before the rollback" in outcomes[-1]["reason"]
    assert registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    assert registry.get_version(MODEL, v2).status is Status.ROLLED_BACK
    assert any(entry.change == "alarm ignored" for entry in registry.history(MODEL))


def test_an_alarm_over_traffic_from_before_a_release_still_rolls_it_back(stack: Any, trained: Any) -> None:
    cloud = stack(breast_cancer=CANARY)
    # GIVEN v2 just promoted (its canary ended a moment ago)
    v2 = _promoted_canary(cloud, trained)
    # WHEN half a minute later the errors alarm fires on a period that began before the promotion
    cloud.advance(0.5)
    cloud.set_alarm(MODEL, "errors")
    cloud.run_until_idle()
    # THEN v2 is rolled back all the same (a release's own alarms are never stale by their window)
    assert registry_of(cloud).get_version(MODEL, v2).status is Status.ROLLED_BACK
    assert registry_of(cloud).get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]


def _promoted_canary_on(cloud: Any, trained: Any) -> int:
    v2 = approved(cloud, trained[MODEL])
    deploy(cloud, MODEL, v2)
    traffic(cloud, MODEL, 60)
    cloud.advance(10)
    assert check(cloud, MODEL)["outcome"] == "promoted"
    return v2
