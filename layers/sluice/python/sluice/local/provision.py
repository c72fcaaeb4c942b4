"""Create, on the embedded AWS, the resources the CDK stack defines (same names, same wiring)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sluice.config import ModelConfig, ProjectConfig
from sluice.local.captures import staging_prefix
from sluice.local.notifications import provision_notifications
from sluice.naming import EVENT_SOURCE
from sluice.predict.capture import ENV_CAPTURE_BATCH, ENV_CAPTURE_RATE, ENV_CAPTURE_STREAM
from sluice.settings import Settings
from sluice.wiring import (
    FUNCTIONS,
    RETRAIN_SCHEDULE_KIND,
    PatternContext,
    Route,
    ScheduleTrigger,
    capture,
    routes_in_use,
)
from sluice.wiring.alarms import AlarmSpec, MetricStat, QueueName, dead_letter_functions, stage_alarms
from sluice.wiring.queues import (
    BUFFER_MAX_RECEIVES,
    DEAD_LETTER_RETENTION_DAYS,
    buffer_visibility_s,
    buffered_routes,
)
from sluice.wiring.state_machines import STATE_MACHINES
from sluice.wiring.tables import TABLES, Key

OBSERVER = "observer"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
DEAD_LETTER_RETENTION_S = DEAD_LETTER_RETENTION_DAYS * 24 * 3600


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
    """The metric alarms of each model."""
    dead_letter_queues: dict[str, str] = field(default_factory=dict)
    """function → URL of its dead-letter queue."""
    buffered: set[str] = field(default_factory=set)
    """Routes whose queue in ``route_queues`` is a buffer the function consumes in batches (not a stand-in)."""
    state_machines: dict[str, str] = field(default_factory=dict)
    """kind → ARN of each state machine (sluice.wiring.state_machines)."""


def provision(clients: Any, settings: Settings, config: ProjectConfig, functions_dir: Path) -> Provisioned:
    """Buckets, tables, bus, rules (with SQS stand-ins for Lambda targets), predict functions, alarms."""
    _storage(clients.s3, settings)
    _tables(clients.dynamodb, settings)
    clients.events.create_event_bus(Name=settings.event_bus)
    provisioned = Provisioned(buffered=set(buffered_routes(config)))
    provisioned.dead_letter_queues = _dead_letter_queues(clients.sqs, settings)
    ctx = PatternContext(data_bucket=settings.data_bucket, names=settings.names)
    for route in routes_in_use(config):
        if isinstance(route.trigger, ScheduleTrigger):
            for model, arn in _schedules(clients.events, settings, config, route).items():
                provisioned.schedules[(route.name, model)] = arn
                if route.trigger.kind == RETRAIN_SCHEDULE_KIND:
                    provisioned.schedule_rules[model] = arn
            continue
        if route.name in provisioned.buffered:  # the rule targets the buffer queue, as on AWS
            queue_url, queue_arn = _buffer(clients.sqs, settings, route, provisioned.dead_letter_queues[route.function])
        else:  # a stand-in for the Lambda target: the runtime drains it into the function
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
        if config.model(model).training.backend != "lambda":  # as infra/components/training_jobs.py
            _job_role(clients.iam, settings.names.training_job_role(model))
    if any(config.model(model).data.processing_job_above_mb is not None for model in config.names):
        _job_role(clients.iam, settings.names.validation_job_role)  # as infra/components/validation_jobs.py
    clients.glue.create_database(DatabaseInput={"Name": capture.capture_database_name(settings.prefix)})
    for model in config.names:
        _capture_stream(clients.firehose, settings, model, role_arn)
        _capture_table(clients.glue, settings, config.model(model))
        capture_env = {ENV_CAPTURE_STREAM: settings.names.capture_stream(model),
                       ENV_CAPTURE_RATE: str(config.model(model).monitoring.capture_rate), ENV_CAPTURE_BATCH: "1"}
        _predict_function(clients.awslambda, settings, model, role_arn, functions_dir, capture_env)
    provisioned.alarms = _alarms(clients, settings, config, provisioned.dead_letter_queues)
    provisioned.state_machines = _state_machines(clients, settings)
    return provisioned


def function_arn(settings: Settings, function: str) -> str:
    """The ARN a shared function has on the embedded AWS (the state machines name their tasks by it)."""
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{settings.names.shared_function(function)}"


def _state_machines(clients: Any, settings: Settings) -> dict[str, str]:
    """Each state machine of the wiring, stored with its definition (moto keeps it; the runtime plays it)."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                       "Principal": {"Service": "states.amazonaws.com"}}]}
    role = clients.iam.create_role(RoleName=f"{settings.prefix}-state-machines",
                                   AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    return {kind: clients.stepfunctions.create_state_machine(
        name=settings.names.state_machine(kind), roleArn=role, type="STANDARD",
        definition=json.dumps(machine.definition(lambda function: function_arn(settings, function))),
    )["stateMachineArn"] for kind, machine in STATE_MACHINES.items()}


def route_queue_name(settings: Settings, route: Route) -> str:
    """The SQS queue standing in for a route's Lambda target (moto's EventBridge cannot invoke Lambda)."""
    return f"{settings.prefix}-route-{route.name}"


def buffer_queue_name(settings: Settings, route: Route) -> str:
    return f"{settings.prefix}-{route.name}-buffer"


def _buffer(sqs: Any, settings: Settings, route: Route, dead_letter_url: str) -> tuple[str, str]:
    """The buffer queue of a route: redrives to the function's dead-letter queue, as the CDK queue does."""
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url,
                                               AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url: str = sqs.create_queue(QueueName=buffer_queue_name(settings, route), Attributes={
        "VisibilityTimeout": str(buffer_visibility_s(route.function)),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letter_arn,
                                     "maxReceiveCount": BUFFER_MAX_RECEIVES})})["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


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
    """The manifest's tables (sluice.wiring.tables): keys, indexes, TTL."""
    for spec in TABLES:
        name = spec.table_name(settings)
        indexes = [{"IndexName": index.name, "Projection": {"ProjectionType": "ALL"}, "KeySchema": _key_schema(
            index.partition_key, index.sort_key)} for index in spec.indexes]
        dynamodb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": kind}
                                  for key, kind in spec.attributes().items()],
            KeySchema=_key_schema(spec.partition_key, spec.sort_key),
            **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
        )
        if spec.ttl_attribute:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": spec.ttl_attribute})


def _key_schema(partition: Key, sort: Key | None) -> list[dict[str, str]]:
    keys = [{"AttributeName": partition.name, "KeyType": "HASH"}]
    return keys if sort is None else [*keys, {"AttributeName": sort.name, "KeyType": "RANGE"}]


def dead_letter_queue_name(settings: Settings, function: str) -> str:
    """The dead-letter queue of a function (on AWS its name is generated; the alarms find it either way)."""
    return f"{settings.prefix}-dead-letters-{function.replace('_', '-')}"


def _dead_letter_queues(sqs: Any, settings: Settings) -> dict[str, str]:
    """A dead-letter queue per function a route starts, kept 14 days as on AWS."""
    return {function: sqs.create_queue(QueueName=dead_letter_queue_name(settings, function),
                                       Attributes={"MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_S)})["QueueUrl"]
            for function in dead_letter_functions()}


def _capture_table(glue: Any, settings: Settings, model: ModelConfig) -> None:
    """The Glue table Firehose converts captures with on AWS (sluice.wiring.capture), registered the same way."""
    glue.create_table(DatabaseName=capture.capture_database_name(settings.prefix), TableInput={
        "Name": capture.capture_table_name(model.name), "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet"},
        "PartitionKeys": [{"Name": name, "Type": kind} for name, kind in capture.PARTITION_KEYS],
        "StorageDescriptor": {
            "Columns": [{"Name": name, "Type": kind} for name, kind in capture.capture_columns(model)],
            "Location": f"s3://{settings.data_bucket}/captures/{model.name}/"},
    })


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


def _job_role(iam: Any, name: str) -> str:
    """A role SageMaker jobs run as (its permissions are the CDK's; locally, jobs read and write files)."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                       "Principal": {"Service": "sagemaker.amazonaws.com"}}]}
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
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


def _alarms(clients: Any, settings: Settings, config: ProjectConfig, dead_letter_queues: dict[str, str]
            ) -> dict[str, list[str]]:
    """Every alarm of the manifest (sluice.wiring.alarms), as CDK defines them; returns model → alarm names."""
    alarms = stage_alarms(config, settings.names)
    topic = [settings.notifications_topic] if settings.notifications_topic else []

    def queue_name(ref: QueueName) -> str:
        return dead_letter_queues[ref.function].rsplit("/", 1)[-1]

    for spec in alarms.metric_alarms:
        clients.cloudwatch.put_metric_alarm(**alarm_request(spec, queue_name),
                                            **({"AlarmActions": topic, "OKActions": topic} if spec.notifies else {}))
    for composite in alarms.composites:
        clients.cloudwatch.put_composite_alarm(
            AlarmName=composite.name, AlarmDescription=composite.description,
            AlarmRule=" OR ".join(f'ALARM("{member}")' for member in composite.members),
            **({"AlarmActions": topic, "OKActions": topic} if composite.notifies else {}))
    by_model: dict[str, list[str]] = {model: [] for model in config.names}
    for spec in alarms.metric_alarms:
        if spec.model is not None:
            by_model[spec.model].append(spec.name)
    return by_model


def alarm_request(spec: AlarmSpec, queue_name: Callable[[QueueName], str]) -> dict[str, Any]:
    """PutMetricAlarm's parameters for ``spec`` (the same fields AWS::CloudWatch::Alarm declares)."""

    def metric(stat: MetricStat) -> dict[str, Any]:
        return {"Namespace": stat.namespace, "MetricName": stat.metric, "Dimensions": [
            {"Name": key, "Value": value if isinstance(value, str) else queue_name(value)}
            for key, value in stat.dimensions]}

    request: dict[str, Any] = {
        "AlarmName": spec.name, "AlarmDescription": spec.description, "Threshold": spec.threshold,
        "ComparisonOperator": spec.comparison, "EvaluationPeriods": spec.evaluation_periods,
        "DatapointsToAlarm": spec.datapoints_to_alarm, "TreatMissingData": spec.treat_missing_data}
    if spec.expression is None:
        stat = spec.metrics[0]
        statistic = {"ExtendedStatistic": stat.statistic} if stat.percentile else {"Statistic": stat.statistic}
        return {**request, **metric(stat), "Period": stat.period_s, **statistic}
    queries = [{"Id": stat.id, "ReturnData": False,
                "MetricStat": {"Metric": metric(stat), "Period": stat.period_s, "Stat": stat.statistic}}
               for stat in spec.metrics]
    queries.append({"Id": "value", "Expression": spec.expression, "ReturnData": True})
    return {**request, "Metrics": queries}
