"""One manifest, two worlds: what the synthesized template declares is what the local stack provisions on moto,
resource by resource (alarms, composite alarms, tables, queues, rules, buckets, the capture schema).

Both sides are read back as deployed (the template's JSON; the local stack through the AWS APIs), reduced to what
AWS acts on, and compared whole: a resource declared on one side only fails, except the few listed below with the
reason each exists on one side only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template
from cfnlint.api import ManualArgs, lint

from infra.assets import BuildInputs
from infra.nag_suppressions import CFN_LINT_IGNORED, acknowledge_nag_findings, nag_packs
from infra.stack import SluiceStack
from infra.stages import stage_named
from sluice.config import load_config
from sluice.events.dead_letters import ENV_DEAD_LETTER_QUEUE
from sluice.local.provision import (
    buffer_queue_name,
    dead_letter_queue_name,
    observer_queue_name,
    route_queue_name,
)
from sluice.local.runtime import LocalCloud
from sluice.wiring import ROUTES, ScheduleTrigger
from sluice.wiring.alarms import dead_letter_functions
from tests.infra.conftest import REPO, Synth, cdk_context, fake_serving_deps, function_of

PREFIX = "sluice-dev"  # the dev stage's prefix: both sides derive the same names from it
DATA_BUCKET = "<data bucket>"
AWS_ONLY_BUCKETS = {"access-logs"}  # S3 server access logs: moto does not deliver them
# The local stack's own plumbing, not part of the deployment it imitates:
# moto's EventBridge cannot invoke Lambda, so each route's target is a queue the runtime drains; an observer queue
# feeds the timeline; the notifications topic's subscriber queue shows notifications.


OPTIONS = {
    "defaults": "",
    # every option the manifest turns into resources: the drop buffer, reserved and capped concurrency
    "options": "[stack]\nbuffer_drops = true\nrollback_reserved_concurrency = 5\n",
}


@pytest.fixture(scope="module", params=sorted(OPTIONS))
def config_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sluice.toml as it is, or with every stack option on (and predict capped for one model)."""
    text = (REPO / "sluice.toml").read_text()
    if request.param == "options":
        table = "[models.breast-cancer.serving]\n"
        text = text.replace(table, f"{table}max_concurrency = 20\n")
    path = tmp_path_factory.mktemp(request.param) / "sluice.toml"
    path.write_text(OPTIONS[request.param] + text)
    return path


@pytest.fixture(scope="module")
def synth(config_file: Path) -> Synth:
    """The dev stack of ``config_file`` (the stack's own configuration; the layer keeps the repository's)."""
    tmp = config_file.parent
    inputs = BuildInputs(serving_deps_dir=fake_serving_deps(tmp / "serving-deps"), staging_dir=tmp / "staging")
    app = App(outdir=str(tmp / "cdk.out"), context=cdk_context())
    stage = stage_named("dev")
    stack = SluiceStack(app, stage.stack_name, stage=stage, config=load_config(config_file), inputs=inputs)
    acknowledge_nag_findings(stack)  # as infra/app.py builds it
    nested = {stack.get_logical_id(model_stack.nested_stack_resource): Template.from_stack(model_stack)
              for model_stack in stack.model_stacks.values() if model_stack.nested_stack_resource is not None}
    return Synth(stack=stack, template=Template.from_stack(stack), nested=nested)


@pytest.fixture(scope="module")
def local(config_file: Path) -> Iterator[LocalCloud]:
    cloud = LocalCloud(config_file, prefix=PREFIX)
    cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()


def _dead_letter_ids(synth: Synth) -> dict[str, str]:
    """Logical id of each dead-letter queue → the function it belongs to."""
    return {synth.stack.get_logical_id(queue.node.default_child): function  # type: ignore[arg-type]
            for function, queue in synth.stack.wiring.dead_letter_queues.items()}


def _buffer_ids(synth: Synth) -> dict[str, str]:
    """Logical id of each buffer queue → the route it buffers."""
    return {synth.stack.get_logical_id(queue.node.default_child): route  # type: ignore[arg-type]
            for route, queue in synth.stack.wiring.buffer_queues.items()}


def _dimension_value(value: Any, queues: dict[str, str]) -> str:
    if isinstance(value, dict):  # {"Fn::GetAtt": [queue, "QueueName"]}: resolved to the function it serves
        (logical_id, attribute) = value["Fn::GetAtt"]
        assert attribute == "QueueName"
        return f"dead-letters of {queues[logical_id]}"
    return str(value)


def _metric(namespace: str, name: str, dimensions: list[dict[str, Any]], stat: str, period: int,
            queues: dict[str, str]) -> tuple[Any, ...]:
    dims = tuple(sorted((d["Name"], _dimension_value(d["Value"], queues)) for d in dimensions))
    return namespace, name, dims, stat, int(period)


def _alarm_shape(alarm: dict[str, Any], queues: dict[str, str]) -> dict[str, Any]:
    """What CloudWatch evaluates and does: metrics, math, threshold, comparison, datapoints, missing data, actions."""
    queries = alarm.get("Metrics") or []
    if queries:
        metrics = {query["Id"]: _metric(query["MetricStat"]["Metric"]["Namespace"],
                                        query["MetricStat"]["Metric"]["MetricName"],
                                        query["MetricStat"]["Metric"].get("Dimensions", []),
                                        query["MetricStat"]["Stat"], query["MetricStat"]["Period"], queues)
                   for query in queries if "MetricStat" in query}
        (expression,) = [query["Expression"] for query in queries if "Expression" in query]
    else:
        stat = alarm.get("ExtendedStatistic") or alarm["Statistic"]
        metrics = {"": _metric(alarm["Namespace"], alarm["MetricName"], alarm.get("Dimensions", []), stat,
                               alarm["Period"], queues)}
        expression = None
    return {"metrics": metrics, "expression": expression, "threshold": alarm.get("Threshold"),
            "band": alarm.get("ThresholdMetricId") is not None, "comparison": alarm["ComparisonOperator"],
            "periods": (int(alarm["EvaluationPeriods"]), int(alarm.get("DatapointsToAlarm") or 0)),
            "missing": alarm.get("TreatMissingData"), "notifies": bool(alarm.get("AlarmActions")),
            "notifies_ok": bool(alarm.get("OKActions"))}


def test_every_alarm_is_on_both_sides_with_the_same_metrics_math_threshold_and_actions(
        synth: Synth, local: LocalCloud) -> None:
    queues = _dead_letter_ids(synth)
    # GIVEN the template's alarms and the local stack's, read back as provisioned
    declared = {props["Properties"]["AlarmName"]: _alarm_shape(props["Properties"], queues)
                for props in synth.of_type("AWS::CloudWatch::Alarm").values()}
    local_queues = {dead_letter_queue_name(local.settings, f): f for f in dead_letter_functions()}
    provisioned = {alarm["AlarmName"]: _alarm_shape(alarm, {}) for alarm in local.clients.cloudwatch.describe_alarms(
        AlarmTypes=["MetricAlarm"])["MetricAlarms"]}
    for shape in provisioned.values():  # local queue names → the function they serve, as for the template
        shape["metrics"] = {key: (ns, name, tuple((k, f"dead-letters of {local_queues[v]}" if v in local_queues
                                                   else v) for k, v in dims), stat, period)
                            for key, (ns, name, dims, stat, period) in shape["metrics"].items()}
    # THEN both hold the same alarms (every one of them: endpoint, release, throttle, dead-letter), each the same
    assert sorted(declared) == sorted(provisioned)
    for name in declared:
        assert declared[name] == provisioned[name], name
    kinds = {name.rsplit("-", 1)[-1] for name in declared}
    assert {"errors", "faults", "p99", "shift", "accuracy"} <= kinds
    assert any(name.startswith("throttles-") for name in declared)
    assert any(name.startswith("dead-letters-") for name in declared)


def test_every_composite_alarm_has_the_same_members_and_notifies_on_both_sides(
        synth: Synth, local: LocalCloud) -> None:
    names = {logical_id: props["Properties"]["AlarmName"]
             for logical_id, props in synth.of_type("AWS::CloudWatch::Alarm").items()}

    def members(rule: Any) -> set[str]:
        text = json.dumps(rule)
        return {name for logical_id, name in names.items() if f'"{logical_id}", "Arn"' in text}

    declared = {props["Properties"]["AlarmName"]: (members(props["Properties"]["AlarmRule"]),
                                                   bool(props["Properties"].get("AlarmActions")))
                for props in synth.of_type("AWS::CloudWatch::CompositeAlarm").values()}
    provisioned = {alarm["AlarmName"]: (set(alarm["AlarmRule"].split('"')[1::2]), bool(alarm.get("AlarmActions")))
                   for alarm in local.clients.cloudwatch.describe_alarms(
                       AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]}
    assert declared == provisioned
    assert all(members and notifies for members, notifies in declared.values())


def test_every_table_has_the_same_keys_indexes_and_ttl(synth: Synth, local: LocalCloud) -> None:
    roles = {"StateRegistry": "registry", "StateIdempotency": "idempotency"}

    def shape(keys: list[dict[str, str]], attributes: list[dict[str, str]], ttl: str | None,
              indexes: list[dict[str, Any]]) -> tuple[Any, ...]:
        return (tuple((k["AttributeName"], k["KeyType"]) for k in keys),
                sorted((a["AttributeName"], a["AttributeType"]) for a in attributes), ttl,
                sorted((i["IndexName"], tuple((k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]))
                       for i in indexes))

    declared = {}
    for logical_id, props in synth.of_type("AWS::DynamoDB::Table").items():
        (role,) = [role for head, role in roles.items() if logical_id.startswith(head)]
        p = props["Properties"]
        declared[role] = shape(p["KeySchema"], p["AttributeDefinitions"],
                               p.get("TimeToLiveSpecification", {}).get("AttributeName"),
                               p.get("GlobalSecondaryIndexes", []))
    provisioned = {}
    for role in roles.values():
        name = getattr(local.settings, f"{role}_table")
        table = local.clients.dynamodb.describe_table(TableName=name)["Table"]
        ttl = local.clients.dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        provisioned[role] = shape(table["KeySchema"], table["AttributeDefinitions"],
                                  ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None,
                                  table.get("GlobalSecondaryIndexes", []))
    assert declared == provisioned
    assert declared["idempotency"][2] == "expiration"


def test_every_queue_is_a_dead_letter_queue_or_a_buffer_kept_and_redriven_alike(
        synth: Synth, local: LocalCloud) -> None:
    dead_letters, buffers = _dead_letter_ids(synth), _buffer_ids(synth)
    declared = {}
    for logical_id, props in synth.of_type("AWS::SQS::Queue").items():
        p = props["Properties"]
        if logical_id in dead_letters:
            declared[f"dead-letters of {dead_letters[logical_id]}"] = (int(p["MessageRetentionPeriod"]), None, None)
            continue
        redrive = p["RedrivePolicy"]
        declared[f"buffer of {buffers[logical_id]}"] = (
            None, int(p["VisibilityTimeout"]),
            (dead_letters[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]], int(redrive["maxReceiveCount"])))
    by_arn = {}
    provisioned = {}
    for function, url in local.provisioned.dead_letter_queues.items():
        attributes = local.clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        by_arn[attributes["QueueArn"]] = function
        provisioned[f"dead-letters of {function}"] = (int(attributes["MessageRetentionPeriod"]), None, None)
    for route in local.provisioned.buffered:
        attributes = local.clients.sqs.get_queue_attributes(QueueUrl=local.provisioned.route_queues[route],
                                                            AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes["RedrivePolicy"])
        provisioned[f"buffer of {route}"] = (None, int(attributes["VisibilityTimeout"]),
                                             (by_arn[redrive["deadLetterTargetArn"]], int(redrive["maxReceiveCount"])))
    assert declared == provisioned
    # AND the local stack's other queues are its own plumbing (route targets, observer, notifications)
    plumbing = {route_queue_name(local.settings, route) for route in ROUTES} | {
        observer_queue_name(local.settings), f"{local.settings.names.notifications_topic}-local"}
    manifest = {url.rsplit("/", 1)[-1] for url in local.provisioned.dead_letter_queues.values()} | {
        buffer_queue_name(local.settings, route) for route in ROUTES if route.name in local.provisioned.buffered}
    others = {url.rsplit("/", 1)[-1] for url in local.clients.sqs.list_queues()["QueueUrls"]} - manifest
    assert others <= plumbing


def test_a_buffered_route_is_consumed_in_batches_with_partial_failure(synth: Synth, local: LocalCloud) -> None:
    mappings = [props["Properties"] for props in synth.of_type("AWS::Lambda::EventSourceMapping").values()]
    assert len(mappings) == len(local.provisioned.buffered) == len(synth.stack.wiring.buffer_queues)
    assert bool(mappings) == local.config.stack.buffer_drops
    for mapping in mappings:
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["EventSourceArn"]["Fn::GetAtt"][0] in _buffer_ids(synth)


def test_every_rule_has_the_same_pattern_or_schedule_and_starts_the_same_function(
        synth: Synth, local: LocalCloud) -> None:
    data_ref = {"Ref": synth.stack.get_logical_id(synth.stack.storage.data_bucket.node.default_child)}  # type: ignore[arg-type]

    def pattern(text: str) -> str:
        return text.replace(json.dumps(data_ref), json.dumps(DATA_BUCKET)).replace(
            json.dumps(local.settings.data_bucket), json.dumps(DATA_BUCKET))

    buffers = _buffer_ids(synth)

    def target_of(arn: Any) -> str:
        logical_id = arn["Fn::GetAtt"][0]
        return f"buffer of {buffers[logical_id]}" if logical_id in buffers else function_of(synth, arn)

    declared = set()
    for props in synth.of_type("AWS::Events::Rule").values():
        p = props["Properties"]
        (target,) = p["Targets"]
        bus = "sluice" if "EventBusName" in p else "default"
        trigger = p.get("ScheduleExpression") or pattern(json.dumps(p["EventPattern"], sort_keys=True))
        declared.add((bus, p.get("Name"), trigger, target_of(target["Arn"])))
    by_queue = {route_queue_name(local.settings, route): route.function for route in ROUTES} | {
        buffer_queue_name(local.settings, route): f"buffer of {route.name}" for route in ROUTES}
    schedules = {route.trigger.kind: route.function for route in ROUTES if isinstance(route.trigger, ScheduleTrigger)}
    provisioned = set()
    for bus, bus_name in (("default", "default"), ("sluice", local.settings.event_bus)):
        for rule in local.clients.events.list_rules(EventBusName=bus_name)["Rules"]:
            if rule["Name"] == observer_queue_name(local.settings):
                continue  # the runtime's timeline (local plumbing)
            if "ScheduleExpression" in rule:  # moto never fires schedules: the runtime fires them as their route says
                (kind,) = [k for k in schedules if local.settings.names.model_of_schedule_rule(k, rule["Name"])
                           in local.config.models]
                provisioned.add((bus, rule["Name"], rule["ScheduleExpression"], schedules[kind]))
                continue
            (target,) = local.clients.events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus_name)["Targets"]
            text = json.dumps(json.loads(rule["EventPattern"]), sort_keys=True)
            provisioned.add((bus, None, pattern(text), by_queue[target["Arn"].rsplit(":", 1)[-1]]))
    assert declared == provisioned


def test_reserved_concurrency_is_what_the_configuration_asks_for(synth: Synth, local: LocalCloud) -> None:
    reserved = {props["Properties"]["FunctionName"]: props["Properties"].get("ReservedConcurrentExecutions")
                for props in synth.of_type("AWS::Lambda::Function").values()
                if "SLUICE_PREFIX" in props["Properties"].get("Environment", {}).get("Variables", {})}
    names = local.settings.names
    expected = {name: None for name in reserved}
    if local.config.stack.rollback_reserved_concurrency:
        expected[f"{PREFIX}-rollback-model"] = 5
        expected[names.predict_function("breast-cancer")] = 20
    assert reserved == expected


def test_the_buckets_are_versioned_and_the_data_bucket_tells_eventbridge_on_both_sides(
        synth: Synth, local: LocalCloud) -> None:
    roles = {"StorageData": "data", "StorageArtifacts": "artifacts", "StorageAccessLogs": "access-logs"}
    declared = {}
    for logical_id, props in synth.of_type("AWS::S3::Bucket").items():
        (role,) = [role for head, role in roles.items() if logical_id.startswith(head)]
        p = props["Properties"]
        declared[role] = (p.get("VersioningConfiguration", {}).get("Status"),
                          bool(p.get("NotificationConfiguration", {}).get("EventBridgeConfiguration")))
    # (moto's GetBucketNotificationConfiguration omits EventBridgeConfiguration: an upload shows what it does)
    queue = local.provisioned.route_queues["dataset-dropped"]
    provisioned = {}
    for role, bucket in (("data", local.settings.data_bucket), ("artifacts", local.settings.artifact_bucket)):
        local.clients.s3.put_object(Bucket=bucket, Key="incoming/probe/manifest-test.csv", Body=b"a\n1\n")
        messages = local.clients.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            local.clients.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        provisioned[role] = (local.clients.s3.get_bucket_versioning(Bucket=bucket).get("Status"), bool(messages))
    assert {role: shape for role, shape in declared.items() if role not in AWS_ONLY_BUCKETS} == provisioned
    assert provisioned["data"] == ("Enabled", True)


def test_the_capture_tables_have_the_same_columns(synth: Synth, local: LocalCloud) -> None:
    declared = {props["Properties"]["TableInput"]["Name"]: (
        props["Properties"]["DatabaseName"], props["Properties"]["TableInput"]["StorageDescriptor"]["Columns"],
        props["Properties"]["TableInput"]["PartitionKeys"]) for props in synth.of_type("AWS::Glue::Table").values()}
    provisioned = {}
    for name, (database, _, _) in declared.items():
        table = local.clients.glue.get_table(DatabaseName=database, Name=name)["Table"]
        provisioned[name] = (database, table["StorageDescriptor"]["Columns"], table["PartitionKeys"])
    assert declared == provisioned and len(declared) == len(local.config.models)


def test_every_routed_function_parks_what_it_refuses_in_its_own_dead_letter_queue(
        synth: Synth, local: LocalCloud) -> None:
    queues = {function: synth.stack.get_logical_id(queue.node.default_child)  # type: ignore[arg-type]
              for function, queue in synth.stack.wiring.dead_letter_queues.items()}
    policies = list(synth.of_type("AWS::IAM::Policy").values())
    for function, queue_id in queues.items():
        fn = synth.stack.functions.by_name[function]
        props = synth.resources[synth.stack.get_logical_id(fn.node.default_child)]["Properties"]  # type: ignore[arg-type]
        # THEN the function knows its queue (on AWS: the URL, a Ref; locally: the same variable) ...
        assert props["Environment"]["Variables"][ENV_DEAD_LETTER_QUEUE] == {"Ref": queue_id}
        assert local._function_env(function)[ENV_DEAD_LETTER_QUEUE] == local.provisioned.dead_letter_queues[function]
        # ... and its role may send to it
        role = props["Role"]["Fn::GetAtt"][0]
        statements = [statement for policy in policies if {"Ref": role} in policy["Properties"]["Roles"]
                      for statement in policy["Properties"]["PolicyDocument"]["Statement"]]
        assert any("sqs:SendMessage" in statement["Action"] and statement["Resource"] == {
            "Fn::GetAtt": [queue_id, "Arn"]} for statement in statements), function


def test_the_stack_with_its_options_passes_cdk_nag_and_cfn_lint_as_the_default_does(synth: Synth) -> None:
    for pack in nag_packs():
        report = pack.validate_scope(synth.stack)
        assert [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations] == []
    config = ManualArgs(regions=["us-east-1", "eu-west-1"], ignore_checks=sorted(CFN_LINT_IGNORED))
    matches = lint(json.dumps(synth.template.to_json()), config=config)
    assert [f"{match.rule.id} {match.message}" for match in matches] == []
