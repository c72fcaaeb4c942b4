"""THE wiring test: the rules in the template are exactly the wiring table plus the per-model schedules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_

from infra.components.wiring import Wiring, WiringError, to_event_pattern
from sluice.config import load_config
from sluice.naming import ResourceNames
from sluice.wiring import ROUTES, PatternContext, ScheduleTrigger, routes_in_use
from tests.infra.conftest import REPO, Synth, function_of, sluice_functions

Rule = tuple[str, str, str]  # (bus or "schedule", canonical pattern or schedule, function)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _refs(synth: Synth) -> tuple[dict[str, str], dict[str, str]]:
    """{"Ref": …} of the data bucket and of the sluice bus, found through the template itself."""
    variables = next(iter(sluice_functions(synth).values()))["Environment"]["Variables"]
    data_bucket = variables["SLUICE_DATA_BUCKET"]
    bus = variables["SLUICE_EVENT_BUS"]
    assert set(data_bucket) == {"Ref"} and set(bus) == {"Ref"}
    return data_bucket, bus


def _expected(synth: Synth) -> list[Rule]:
    names = ResourceNames("sluice-dev")
    data_bucket, bus = _refs(synth)
    context = PatternContext(data_bucket=data_bucket, names=names)  # type: ignore[arg-type]  # a CFN Ref
    config = load_config(REPO / "sluice.toml")
    expected: list[Rule] = []
    for route in routes_in_use(config):  # the SageMaker job routes only where their jobs may run
        if isinstance(route.trigger, ScheduleTrigger):
            for model, model_config in config.models.items():
                schedule = route.trigger.expression(model_config)
                if schedule:
                    rule = route.trigger.rule_name(names, model)
                    expected.append(("schedule", _canonical([rule, schedule]), route.function))
        else:
            where = _canonical(bus) if route.on_sluice_bus else "default"
            expected.append((where, _canonical(route.trigger.pattern(context)), route.function))
    return sorted(expected)


def _actual(synth: Synth) -> list[Rule]:
    actual: list[Rule] = []
    for rule in synth.of_type("AWS::Events::Rule").values():
        props = rule["Properties"]
        (target,) = props["Targets"]
        function = function_of(synth, target["Arn"])
        if "ScheduleExpression" in props:
            assert "EventPattern" not in props and "EventBusName" not in props
            actual.append(("schedule", _canonical([props["Name"], props["ScheduleExpression"]]), function))
        else:
            bus = props.get("EventBusName")
            actual.append((_canonical(bus) if bus else "default", _canonical(props["EventPattern"]), function))
    return sorted(actual)


def test_rules_are_exactly_the_wiring_table_and_the_schedules(synth: Synth) -> None:
    # GIVEN the wiring table, the configured schedules and the synthesized template
    expected = _expected(synth)
    # WHEN the rules of the template are read back as (bus, pattern, function)
    actual = _actual(synth)
    # THEN they are the same multiset: nothing missing, nothing extra, nothing twice
    assert actual == expected
    assert len(set(actual)) == len(actual)


def test_every_model_with_a_schedule_gets_its_own_named_rule(synth: Synth) -> None:
    config = load_config(REPO / "sluice.toml")
    names = ResourceNames("sluice-dev")
    scheduled = {
        props["Properties"]["Name"]: props["Properties"]["ScheduleExpression"]
        for props in synth.of_type("AWS::Events::Rule").values()
        if "ScheduleExpression" in props["Properties"]
    }
    expected = {
        route.trigger.rule_name(names, model): route.trigger.expression(model_config)
        for route in ROUTES if isinstance(route.trigger, ScheduleTrigger)
        for model, model_config in config.models.items()
        if route.trigger.expression(model_config)
    }
    assert scheduled == expected
    assert names.retrain_rule("m") == ScheduleTrigger().rule_name(names, "m")
    assert all(
        names.model_of_schedule_rule(route.trigger.kind, name) in config.models
        for route in ROUTES if isinstance(route.trigger, ScheduleTrigger)
        for name in scheduled if name.startswith(f"{names.prefix}-{route.trigger.kind}-")
    )


def test_schedule_targets_carry_no_input_override(synth: Synth) -> None:
    # The handler reads the model from the rule name in the event's `resources`.
    for rule in synth.of_type("AWS::Events::Rule").values():
        if "ScheduleExpression" in rule["Properties"]:
            (target,) = rule["Properties"]["Targets"]
            assert not {"Input", "InputPath", "InputTransformer"} & set(target)


def test_every_target_retries_and_has_an_encrypted_ssl_only_dead_letter_queue(synth: Synth) -> None:
    queues = synth.of_type("AWS::SQS::Queue")
    policies = synth.of_type("AWS::SQS::QueuePolicy").values()
    for rule in synth.of_type("AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
        queue_id = synth.in_stage(target["DeadLetterConfig"]["Arn"])["Fn::GetAtt"][0]
        assert queues[queue_id]["Properties"]["SqsManagedSseEnabled"] is True
        (policy,) = [p for p in policies if {"Ref": queue_id} in p["Properties"]["Queues"]]
        assert any(
            statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        )


def test_event_functions_send_failed_async_invocations_to_their_dead_letter_queue(synth: Synth) -> None:
    configs = synth.of_type("AWS::Lambda::EventInvokeConfig").values()
    targeted = {synth.in_stage(rule["Properties"]["Targets"][0]["Arn"])["Fn::GetAtt"][0] for rule in synth.of_type(
        "AWS::Events::Rule").values()}
    with_destination = {c["Properties"]["FunctionName"]["Ref"] for c in configs
                        if "OnFailure" in c["Properties"]["DestinationConfig"]}
    assert with_destination == targeted


def test_a_route_declared_twice_is_refused() -> None:
    # GIVEN a wiring table where one route appears twice
    stack = Stack()
    function = lambda_.Function(
        stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_11, handler="app.lambda_handler",
        code=lambda_.Code.from_inline("def lambda_handler(event, context): pass"),
    )
    route = next(r for r in ROUTES if not isinstance(r.trigger, ScheduleTrigger))
    # WHEN the rules are generated THEN the duplicate is refused
    with pytest.raises(WiringError, match="declared twice"):
        Wiring(
            stack, "Wiring",
            context=PatternContext(data_bucket="bucket", names=ResourceNames("sluice-test")),
            bus=events.EventBus(stack, "Bus"),
            function=lambda _name: function,
            removal_policy=RemovalPolicy.DESTROY,
            routes=(route, route),
        )


def test_unknown_pattern_keys_are_refused() -> None:
    assert to_event_pattern({"source": ["sluice"], "detail-type": ["X"]}).detail_type == ["X"]
    with pytest.raises(WiringError, match="unsupported"):
        to_event_pattern({"source": ["sluice"], "detail_type": ["X"]})
