"""The local runtime plays CloudWatch's alarm evaluation: moto stores alarms and metrics but never evaluates.

``evaluate_alarms`` reads each alarm as provisioned (from DescribeAlarms: the manifest's definition, not a copy),
queries its metrics with GetMetricData (exact dimensions, as CloudWatch matches them), computes its metric math
(sluice.local.metric_math), and changes the state of every alarm whose verdict differs. A change does what AWS
does with it: SetAlarmState, a "CloudWatch Alarm State Change" event on the default bus (which reaches
rollback_model or train_model through the wiring), and, for an alarm with actions, a notification on its topic.
Composite alarms follow their members. Anomaly-detection alarms need CloudWatch's trained model: they are left
as they are (``set_state`` forces them in tests).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sluice.clock import iso
from sluice.local.metric_math import UnsupportedExpressionError, Value, evaluate, judge

_MEMBER = re.compile(r'ALARM\("([^"]+)"\)')


def install_composite_alarms() -> None:
    """Teach moto PutCompositeAlarm: its PutMetricAlarm already stores an ``AlarmRule`` and DescribeAlarms lists
    such alarms under CompositeAlarms; only the action's name is missing."""
    from moto.cloudwatch.responses import CloudWatchResponse

    if not hasattr(CloudWatchResponse, "put_composite_alarm"):
        CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AlarmChange:
    """One alarm whose state the evaluation changed."""

    name: str
    state: str
    previous: str
    reason: str


def evaluate_alarms(clients: Any, *, now: float) -> list[AlarmChange]:
    """Evaluate every metric alarm at ``now``, then every composite; returns the changes made."""
    described = clients.cloudwatch.describe_alarms(AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    changes = []
    states: dict[str, str] = {}
    for alarm in described.get("MetricAlarms", []):
        states[alarm["AlarmName"]] = alarm.get("StateValue", "INSUFFICIENT_DATA")
        try:
            values = alarm_values(clients.cloudwatch, alarm, now=now)
        except UnsupportedExpressionError:
            continue
        verdict = judge(values, threshold=float(alarm["Threshold"]), comparison=alarm["ComparisonOperator"],
                        evaluation_periods=int(alarm["EvaluationPeriods"]),
                        datapoints_to_alarm=int(alarm.get("DatapointsToAlarm") or alarm["EvaluationPeriods"]))
        if verdict.state != states[alarm["AlarmName"]]:
            reason = (f"Threshold Crossed: {verdict.breaching} out of the last {len(verdict.datapoints)} datapoints "
                      f"{list(verdict.datapoints)} were {alarm['ComparisonOperator']} {alarm['Threshold']}")
            changes.append(set_state(clients, alarm, verdict.state, reason, now=now, datapoints=verdict.datapoints))
            states[alarm["AlarmName"]] = verdict.state
    for composite in described.get("CompositeAlarms", []):
        members = _MEMBER.findall(composite.get("AlarmRule", ""))
        state = "ALARM" if any(states.get(member) == "ALARM" for member in members) else "OK"
        if state != composite.get("StateValue", "INSUFFICIENT_DATA"):
            reason = f"{[m for m in members if states.get(m) == 'ALARM'] or 'no member'} in ALARM"
            changes.append(set_state(clients, composite, state, reason, now=now, datapoints=()))
    return changes


def alarm_values(cloudwatch: Any, alarm: dict[str, Any], *, now: float) -> list[Value]:
    """The alarm's value in each of its last EvaluationPeriods periods (oldest first; None: no value)."""
    if alarm.get("ThresholdMetricId"):
        raise UnsupportedExpressionError(f"{alarm['AlarmName']}: anomaly detection is not played locally")
    queries = _queries(alarm)
    period = int(queries[0]["MetricStat"]["Period"]) if queries else 60
    periods = int(alarm["EvaluationPeriods"])
    end = (int(now) // period + 1) * period  # the current period counts, as CloudWatch's latest datapoint does
    start = end - periods * period
    response = cloudwatch.get_metric_data(
        MetricDataQueries=[{**query, "ReturnData": True} for query in queries],
        StartTime=datetime.fromtimestamp(start, tz=UTC), EndTime=datetime.fromtimestamp(end, tz=UTC))
    series: dict[str, list[Value]] = {query["Id"]: [None] * periods for query in queries}
    for result in response["MetricDataResults"]:
        for timestamp, value in zip(result["Timestamps"], result["Values"], strict=True):
            index = (int(timestamp.timestamp()) - start) // period
            if 0 <= index < periods:
                series[result["Id"]][index] = float(value)
    expression = _expression(alarm)
    if expression is None:
        return series[queries[0]["Id"]]
    return evaluate(expression, series)


def set_state(clients: Any, alarm: dict[str, Any], state: str, reason: str, *, now: float,
              datapoints: tuple[Value, ...] = ()) -> AlarmChange:
    """Put ``alarm`` in ``state`` and do what CloudWatch does on a change: the event, and the actions."""
    name = alarm["AlarmName"]
    previous = alarm.get("StateValue", "INSUFFICIENT_DATA")
    clients.cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)
    detail = state_change_detail(alarm, state=state, previous=previous, reason=reason, now=now,
                                 datapoints=datapoints)
    clients.events.put_events(Entries=[{
        "Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change",
        "Resources": [alarm["AlarmArn"]], "Detail": json.dumps(detail),
    }])
    actions = alarm.get("AlarmActions" if state == "ALARM" else "OKActions" if state == "OK" else "", [])
    for topic in actions:
        if topic.startswith("arn:aws:sns:"):
            clients.sns.publish(TopicArn=topic, Subject=f'{state}: "{name}"'[:100],
                                Message=json.dumps({"AlarmName": name, "NewStateValue": state,
                                                    "OldStateValue": previous, "NewStateReason": reason}))
    return AlarmChange(name, state, previous, reason)


def state_change_detail(alarm: dict[str, Any], *, state: str, previous: str, reason: str, now: float,
                        datapoints: tuple[Value, ...] = ()) -> dict[str, Any]:
    """The detail of a "CloudWatch Alarm State Change" event for ``alarm`` as DescribeAlarms returns it."""
    timestamp = _cloudwatch_time(now)
    queries = _queries(alarm)
    period = int(queries[0]["MetricStat"]["Period"]) if queries else 60
    count = int(alarm.get("EvaluationPeriods") or 1)
    reason_data = {"version": "1.0", "queryDate": timestamp, "startDate": _cloudwatch_time(now - period * count),
                   "period": period, "recentDatapoints": [v for v in datapoints if v is not None] or [1.0] * count,
                   "threshold": float(alarm.get("Threshold") or 0.0)}
    configuration: dict[str, Any] = {"description": alarm.get("AlarmDescription", "")}
    if "AlarmRule" in alarm:
        configuration["alarmRule"] = alarm["AlarmRule"]
    else:
        expression = _expression(alarm)
        configuration["metrics"] = [_event_query(query, returned=expression is None) for query in queries]
        if expression is not None:
            configuration["metrics"].append({"id": "expression", "expression": expression, "returnData": True})
    return {
        "alarmName": alarm["AlarmName"],
        "state": {"value": state, "reason": reason, "timestamp": timestamp, "reasonData": json.dumps(reason_data)},
        "previousState": {"value": previous, "reason": "", "timestamp": timestamp},
        "configuration": configuration,
    }


def _queries(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The alarm's metric queries in GetMetricData's shape (a single-metric alarm becomes one query "m")."""
    if alarm.get("Metrics"):
        return [{"Id": query["Id"], "MetricStat": query["MetricStat"]}
                for query in alarm["Metrics"] if "MetricStat" in query]
    if "AlarmRule" in alarm:
        return []
    stat = alarm.get("ExtendedStatistic") or alarm["Statistic"]
    return [{"Id": "m", "MetricStat": {
        "Metric": {"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"],
                   "Dimensions": alarm.get("Dimensions", [])},
        "Period": int(alarm["Period"]), "Stat": stat}}]


def _expression(alarm: dict[str, Any]) -> str | None:
    """The expression whose value the alarm judges (None for a single-metric alarm)."""
    for query in alarm.get("Metrics") or []:
        if "Expression" in query and query.get("ReturnData", True):
            return str(query["Expression"])
    return None


def _event_query(query: dict[str, Any], *, returned: bool) -> dict[str, Any]:
    stat = query["MetricStat"]
    metric = stat["Metric"]
    return {"id": query["Id"], "returnData": returned, "metricStat": {
        "metric": {"namespace": metric["Namespace"], "name": metric["MetricName"],
                   "dimensions": {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}},
        "period": int(stat["Period"]), "stat": stat["Stat"]}}


def _cloudwatch_time(epoch_s: float) -> str:
    return iso(epoch_s)[:23] + "+0000"
