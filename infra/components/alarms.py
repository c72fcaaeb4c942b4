"""CloudWatch alarms from the manifest (sluice.wiring.alarms): one construct per AlarmSpec, nothing decided here."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from sluice.wiring.alarms import AlarmSpec, CompositeSpec, MetricStat, QueueName

QueueNames = Callable[[QueueName], str]
"""Resolves a dead-letter queue reference to the queue's (generated) name."""

_COMPARISONS = {
    "GreaterThanOrEqualToThreshold": cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    "GreaterThanThreshold": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    "LessThanThreshold": cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
}
_MISSING = {"notBreaching": cloudwatch.TreatMissingData.NOT_BREACHING,
            "breaching": cloudwatch.TreatMissingData.BREACHING,
            "ignore": cloudwatch.TreatMissingData.IGNORE,
            "missing": cloudwatch.TreatMissingData.MISSING}


def _no_queues(ref: QueueName) -> str:
    raise ValueError(f"an alarm needs the dead-letter queue of {ref.function}, and none was given")


def _dimensions(stat: MetricStat, queue_names: QueueNames) -> dict[str, str]:
    return {key: value if isinstance(value, str) else queue_names(value) for key, value in stat.dimensions}


def _metric(stat: MetricStat, queue_names: QueueNames) -> cloudwatch.Metric:
    return cloudwatch.Metric(namespace=stat.namespace, metric_name=stat.metric,
                             dimensions_map=_dimensions(stat, queue_names), statistic=stat.statistic,
                             period=Duration.seconds(stat.period_s))


def metric_alarm(scope: Construct, construct_id: str, spec: AlarmSpec, *, topic: sns.ITopic | None = None,
                 queue_names: QueueNames = _no_queues, level1: bool = False) -> cloudwatch.IAlarm:
    """The alarm ``spec`` declares; a notifying alarm publishes ALARM and OK to ``topic``. ``level1`` declares it
    as a bare CfnAlarm (the construct an alarm already deployed that way has, so its logical id stays)."""
    if level1:
        if spec.notifies:
            raise ValueError(f"{spec.name} notifies: declare it as a threshold alarm (level1=False)")
        return _cfn_alarm(scope, construct_id, spec, queue_names)
    metric: cloudwatch.IMetric = (
        _metric(spec.metrics[0], queue_names) if spec.expression is None else cloudwatch.MathExpression(
            expression=spec.expression, period=Duration.seconds(spec.period_s),
            using_metrics={stat.id: _metric(stat, queue_names) for stat in spec.metrics}))
    alarm = cloudwatch.Alarm(
        scope, construct_id, alarm_name=spec.name, alarm_description=spec.description, metric=metric,
        threshold=spec.threshold, evaluation_periods=spec.evaluation_periods,
        datapoints_to_alarm=spec.datapoints_to_alarm, comparison_operator=_COMPARISONS[spec.comparison],
        treat_missing_data=_MISSING[spec.treat_missing_data])
    if spec.notifies and topic is not None:  # (tests/infra/test_manifest.py: every notifying alarm has its topic)
        alarm.add_alarm_action(actions.SnsAction(topic))
        alarm.add_ok_action(actions.SnsAction(topic))
    return alarm


def _cfn_alarm(scope: Construct, construct_id: str, spec: AlarmSpec, queue_names: QueueNames) -> cloudwatch.IAlarm:
    def query(stat: MetricStat) -> cloudwatch.CfnAlarm.MetricDataQueryProperty:
        metric = cloudwatch.CfnAlarm.MetricProperty(
            namespace=stat.namespace, metric_name=stat.metric,
            dimensions=[cloudwatch.CfnAlarm.DimensionProperty(name=key, value=value)
                        for key, value in _dimensions(stat, queue_names).items()])
        return cloudwatch.CfnAlarm.MetricDataQueryProperty(
            id=stat.id, return_data=spec.expression is None,
            metric_stat=cloudwatch.CfnAlarm.MetricStatProperty(metric=metric, period=stat.period_s,
                                                               stat=stat.statistic))

    queries = [query(stat) for stat in spec.metrics]
    if spec.expression is not None:
        queries.append(cloudwatch.CfnAlarm.MetricDataQueryProperty(id="value", return_data=True,
                                                                   expression=spec.expression))
    alarm = cloudwatch.CfnAlarm(
        scope, construct_id, alarm_name=spec.name, alarm_description=spec.description,
        comparison_operator=spec.comparison, evaluation_periods=spec.evaluation_periods,
        datapoints_to_alarm=spec.datapoints_to_alarm, threshold=spec.threshold,
        treat_missing_data=spec.treat_missing_data, metrics=queries)
    return cloudwatch.Alarm.from_alarm_arn(scope, f"{construct_id}Ref", alarm.attr_arn)


def composite_alarm(scope: Construct, construct_id: str, spec: CompositeSpec, members: dict[str, cloudwatch.IAlarm],
                    *, topic: sns.ITopic) -> cloudwatch.CompositeAlarm:
    """ALARM while any member is; notifies ``topic`` on ALARM and OK."""
    composite = cloudwatch.CompositeAlarm(
        scope, construct_id, composite_alarm_name=spec.name, alarm_description=spec.description,
        alarm_rule=cloudwatch.AlarmRule.any_of(*(members[name] for name in spec.members)))
    if spec.notifies:
        composite.add_alarm_action(actions.SnsAction(topic))
        composite.add_ok_action(actions.SnsAction(topic))
    return composite
