"""Create, on the embedded AWS, the resources the CDK stack defines (same names, same wiring)."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sluice.config import ProjectConfig
from sluice.local.captures import staging_prefix
from sluice.local.notifications import provision_notifications
from sluice.naming import EVENT_SOURCE
from sluice.predict.capture import ENV_CAPTURE_BATCH, ENV_CAPTURE_RATE, ENV_CAPTURE_STREAM
from sluice.settings import Settings
from sluice.wiring import FUNCTIONS, RETRAIN_SCHEDULE_KIND, ROUTES, PatternContext, Route, ScheduleTrigger
from sluice.wiring.alarms import ENDPOINT_ALARMS

OBSERVER = "observer"


@dataclass
class Provisioned:
    """What the runtime needs to find again."""

    route_queues: dict[str, str] = field(default_factory=dict)
    observer_queue: str = ""
    notifications_queue: str = ""
    schedule_rules: dict[str, str] = field(default_factory=dict)
    """The retrain schedule rule of each model."""
    schedules: dict[tuple[str, str], str] = field(default_factory=dict)
    """Every schedule rule: (route name, model) → rule ARN."""
    alarms: dict[str, list[str]] = field(default_factory=dict)


def provision(clients: Any, settings: Settings, config: ProjectConfig, functions_dir: Path) -> Provisioned:
    """Buckets, tables, bus, rules (with SQS stand-ins for Lambda targets), predict functions, alarms."""
    _storage(clients.s3, settings)
    _tables(clients.dynamodb, settings)
    clients.events.create_event_bus(Name=settings.event_bus)
    provisioned = Provisioned()
    ctx = PatternContext(data_bucket=settings.data_bucket, names=settings.names)
    for route in ROUTES:
        if isinstance(route.trigger, ScheduleTrigger):
            for model, arn in _schedules(clients.events, settings, config, route).items():
                provisioned.schedules[(route.name, model)] = arn
                if route.trigger.kind == RETRAIN_SCHEDULE_KIND:
                    provisioned.schedule_rules[model] = arn
            continue
        queue_url, queue_arn = _queue(clients.sqs, route_queue_name(settings, route))
        bus = settings.event_bus if route.on_sluice_bus else "default"
        rule = f"{settings.prefix}-{route.name}"
        clients.events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(route.trigger.pattern(ctx)))
        clients.events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": route.function, "Arn": queue_arn}])
        provisioned.route_queues[route.name] = queue_url
    provisioned.observer_queue = _observer(clients, settings)
    provisioned.notifications_queue = provision_notifications(clients, settings)
    role_arn = _role(clients.iam, settings)
    for model in config.names:
        _capture_stream(clients.firehose, settings, model, role_arn)
        capture = {ENV_CAPTURE_STREAM: settings.names.capture_stream(model),
                   ENV_CAPTURE_RATE: str(config.model(model).monitoring.capture_rate), ENV_CAPTURE_BATCH: "1"}
        _predict_function(clients.awslambda, settings, model, role_arn, functions_dir, capture)
        provisioned.alarms[model] = _alarms(clients.cloudwatch, settings, model)
    return provisioned


def route_queue_name(settings: Settings, route: Route) -> str:
    """The SQS queue standing in for a route's Lambda target (moto's EventBridge cannot invoke Lambda)."""
    return f"{settings.prefix}-route-{route.name}"


def observer_queue_name(settings: Settings) -> str:
    """The queue that receives every sluice event, for the runtime's timeline."""
    return f"{settings.prefix}-{OBSERVER}"


def _storage(s3: Any, settings: Settings) -> None:
    for bucket in (settings.data_bucket, settings.artifact_bucket):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=settings.data_bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})


def _tables(dynamodb: Any, settings: Settings) -> None:
    dynamodb.create_table(
        TableName=settings.registry_table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    dynamodb.create_table(
        TableName=settings.idempotency_table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    dynamodb.update_time_to_live(TableName=settings.idempotency_table,
                                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"})


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _schedules(events: Any, settings: Settings, config: ProjectConfig, route: Route) -> dict[str, str]:
    assert isinstance(route.trigger, ScheduleTrigger)
    rules = {}
    for model in config.models.values():
        expression = route.trigger.expression(model)
        if not expression:
            continue
        name = route.trigger.rule_name(settings.names, model.name)
        events.put_rule(Name=name, ScheduleExpression=expression)
        rules[model.name] = events.describe_rule(Name=name)["Arn"]
    return rules


def _capture_stream(firehose: Any, settings: Settings, model: str, role_arn: str) -> None:
    """The model's capture stream. moto delivers raw JSON lines (no Parquet conversion): the runtime converts
    what lands under the staging prefix into ``captures/<model>/date=…/`` Parquet, as Firehose would."""
    firehose.create_delivery_stream(
        DeliveryStreamName=settings.names.capture_stream(model), DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": role_arn, "BucketARN": f"arn:aws:s3:::{settings.data_bucket}",
            "Prefix": staging_prefix(model), "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
        },
    )


def _observer(clients: Any, settings: Settings) -> str:
    """Every sluice event also lands in a queue the runtime reads for its timeline."""
    url, arn = _queue(clients.sqs, observer_queue_name(settings))
    rule = observer_queue_name(settings)
    clients.events.put_rule(Name=rule, EventBusName=settings.event_bus,
                            EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
    clients.events.put_targets(Rule=rule, EventBusName=settings.event_bus, Targets=[{"Id": OBSERVER, "Arn": arn}])
    return url


def _role(iam: Any, settings: Settings) -> str:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                       "Principal": {"Service": "lambda.amazonaws.com"}}]}
    arn: str = iam.create_role(RoleName=f"{settings.prefix}-predict",
                               AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    return arn


def _predict_function(awslambda: Any, settings: Settings, model: str, role_arn: str, functions_dir: Path,
                      capture: dict[str, str]) -> None:
    spec = FUNCTIONS["predict"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(functions_dir / "predict" / "app.py", "app.py")
    awslambda.create_function(
        FunctionName=settings.names.predict_function(model), Runtime="python3.11", Role=role_arn,
        Handler="app.lambda_handler", Code={"ZipFile": archive.getvalue()}, MemorySize=spec.memory_mb,
        Timeout=spec.timeout_s, Description=spec.description,
        Environment={"Variables": {**settings.to_env(), "SLUICE_MODEL": model, **capture}},
    )


def _alarms(cloudwatch: Any, settings: Settings, model: str) -> list[str]:
    """The model's endpoint alarms as CDK defines them (sluice.wiring.alarms)."""
    function = settings.names.predict_function(model)
    names = []
    for alarm in ENDPOINT_ALARMS:
        name = settings.names.endpoint_alarm(model, alarm.kind)
        statistic: dict[str, Any] = ({"ExtendedStatistic": alarm.statistic} if alarm.percentile
                                     else {"Statistic": alarm.statistic})
        cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace=alarm.namespace, MetricName=alarm.metric, Period=alarm.period_s,
            EvaluationPeriods=alarm.evaluation_periods, DatapointsToAlarm=alarm.datapoints_to_alarm,
            Threshold=alarm.threshold,
            ComparisonOperator=alarm.comparison,
            Dimensions=[{"Name": key, "Value": value} for key, value in alarm.dimensions(function, model).items()],
            TreatMissingData="notBreaching", **statistic,
        )
        names.append(name)
    return names
