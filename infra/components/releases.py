"""Safe releases: the notifications topic and the alarms that roll a model back at any time.

Per model, beside the endpoint's errors and latency alarms (infra/components/endpoint.py):
- ``<prefix>-<model>-prediction-shift``: the mean prediction leaves its anomaly-detection band;
- ``<prefix>-<model>-live-accuracy`` (classification): live accuracy from feedback below the accuracy floor;
- ``<prefix>-<model>-health``: a composite of all of them, the one alarm that notifies (one page per incident).
Every one is named ``<prefix>-<model>-…``, so its ALARM reaches rollback_model (the wiring's endpoint-alarm
route); rollback_model acts once per incident (stale alarms are ignored) and notifies on the topic.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.components.endpoint import Endpoints
from sluice.config import ProjectConfig
from sluice.deployment import signals
from sluice.naming import ResourceNames
from sluice.wiring.routes import QUALITY_ALARM_KIND

SHIFT_KIND = "prediction-shift"
HEALTH_KIND = "health"
DEFAULT_ACCURACY_FLOOR = 0.8
ANOMALY_BAND_STDDEVS = 3
SHIFT_PERIOD = Duration.minutes(5)


class Notifications(Construct):
    """The SNS topic releases, rollbacks and the health alarms publish to (TLS only, encrypted with a key
    CloudWatch may use: alarm actions cannot publish to a topic under the AWS-managed SNS key)."""

    def __init__(self, scope: Construct, construct_id: str, *, topic_name: str, removal_policy: RemovalPolicy
                 ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(self, "Key", description=f"Encrypts {topic_name}", enable_key_rotation=True,
                           removal_policy=removal_policy)
        self.key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}))
        self.topic = sns.Topic(self, "Topic", topic_name=topic_name, display_name="sluice releases and rollbacks",
                               enforce_ssl=True, master_key=self.key)

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """sns:Publish on the topic and the two key actions it needs (no wildcard actions)."""
        iam.Grant.add_to_principal(grantee=grantee, actions=["sns:Publish"], resource_arns=[self.topic.topic_arn])
        iam.Grant.add_to_principal(grantee=grantee, actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                   resource_arns=[self.key.key_arn])


class ReleaseAlarms(Construct):
    """The release alarms of every model; ``health[model]`` is the composite that notifies."""

    def __init__(self, scope: Construct, construct_id: str, *, config: ProjectConfig, endpoints: Endpoints,
                 names: ResourceNames, topic: sns.ITopic, period: Duration = SHIFT_PERIOD) -> None:
        super().__init__(scope, construct_id)
        self.health: dict[str, cloudwatch.CompositeAlarm] = {}
        self.alarms: dict[str, list[cloudwatch.IAlarm]] = {}
        for model, endpoint in sorted(endpoints.by_model.items()):
            alarms: list[cloudwatch.IAlarm] = [*endpoint.alarms.values(),
                                               self._shift(model, names.endpoint_alarm(model, SHIFT_KIND), period)]
            model_config = config.models.get(model)
            if model_config is not None and model_config.task == "classification":
                floor = model_config.gates.min_metrics.get("accuracy", DEFAULT_ACCURACY_FLOOR)
                alarms.append(self._live_accuracy(model, names.endpoint_alarm(model, QUALITY_ALARM_KIND), floor))
            health = cloudwatch.CompositeAlarm(
                self, f"{_camel(model)}Health", composite_alarm_name=names.endpoint_alarm(model, HEALTH_KIND),
                alarm_description=f"Any release alarm of {model}: notifies (rollback_model rolls back once)",
                alarm_rule=cloudwatch.AlarmRule.any_of(*alarms),
            )
            health.add_alarm_action(actions.SnsAction(topic))
            health.add_ok_action(actions.SnsAction(topic))
            self.health[model] = health
            self.alarms[model] = alarms

    def _shift(self, model: str, name: str, period: Duration) -> cloudwatch.IAlarm:
        """The model's mean prediction (whichever version serves) outside its anomaly band."""
        metric = cloudwatch.CfnAlarm.MetricProperty(
            namespace=signals.NAMESPACE, metric_name=signals.PREDICTION_SCORE,
            dimensions=[cloudwatch.CfnAlarm.DimensionProperty(name=key, value=value)
                        for key, value in sorted(signals.model_dimensions(model).items())])
        alarm = cloudwatch.CfnAlarm(
            self, f"{_camel(model)}PredictionShift", alarm_name=name,
            alarm_description=f"The prediction distribution of {model} shifted; ALARM rolls {model} back",
            comparison_operator="LessThanLowerOrGreaterThanUpperThreshold", evaluation_periods=3,
            datapoints_to_alarm=2, threshold_metric_id="band", treat_missing_data="notBreaching",
            metrics=[
                cloudwatch.CfnAlarm.MetricDataQueryProperty(
                    id="score", return_data=True,
                    metric_stat=cloudwatch.CfnAlarm.MetricStatProperty(
                        metric=metric,
                        period=int(period.to_seconds()), stat="Average")),
                cloudwatch.CfnAlarm.MetricDataQueryProperty(
                    id="band", return_data=True,
                    expression=f"ANOMALY_DETECTION_BAND(score, {ANOMALY_BAND_STDDEVS})"),
            ],
        )
        return cloudwatch.Alarm.from_alarm_arn(self, f"{_camel(model)}PredictionShiftRef", alarm.attr_arn)

    def _live_accuracy(self, model: str, name: str, floor: float) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self, f"{_camel(model)}LiveAccuracy", alarm_name=name,
            alarm_description=f"Live accuracy of {model} (feedback) below {floor:g}; ALARM rolls {model} back",
            metric=cloudwatch.Metric(namespace=signals.NAMESPACE, metric_name=signals.LIVE_ACCURACY,
                                     dimensions_map={"model": model}, statistic="Average", period=Duration.hours(1)),
            threshold=floor, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )


def _camel(model: str) -> str:
    return "".join(word.capitalize() for word in model.split("-"))
