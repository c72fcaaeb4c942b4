"""Failures on AWS are survived: retries, dead-letter queues with alarms, sized functions, capped training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.components.wiring import ASYNC_RETRY_ATTEMPTS, DEFAULT_MAX_EVENT_AGE
from sluice.idempotency import ONE_DAY_S
from sluice.naming import ResourceNames
from sluice.wiring import FUNCTIONS, routes_for
from tests.infra.conftest import Synth, sluice_functions, synthesize

NAMES = ResourceNames("sluice-dev")


def _service(props: dict[str, Any]) -> str:
    service: str = props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    return service


def test_every_asynchronously_invoked_function_has_an_on_failure_destination(synth: Synth) -> None:
    # GIVEN the functions the wiring triggers (EventBridge invokes them asynchronously)
    functions = {key: _service(props) for key, props in sluice_functions(synth).items()}
    triggered = {key for key, service in functions.items() if routes_for(service)}
    assert {functions[key] for key in triggered} == {name for name in FUNCTIONS if routes_for(name)}
    # THEN each retries a bounded number of times, then parks the event in its own SQS queue
    configs = {c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
               for c in synth.of_type("AWS::Lambda::EventInvokeConfig").values()}
    assert set(configs) == triggered
    queues = synth.of_type("AWS::SQS::Queue")
    for key in triggered:
        config = configs[key]
        assert config["MaximumRetryAttempts"] == ASYNC_RETRY_ATTEMPTS
        assert config["MaximumEventAgeInSeconds"] == DEFAULT_MAX_EVENT_AGE.to_seconds()
        destination = config["DestinationConfig"]["OnFailure"]["Destination"]
        assert destination["Fn::GetAtt"][0] in queues


def test_every_dead_letter_queue_alarms_on_its_first_message(synth: Synth) -> None:
    queues = set(synth.of_type("AWS::SQS::Queue"))
    watched = {}
    for alarm in synth.of_type("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("Namespace") == "AWS/SQS":
            (dimension,) = props["Dimensions"]
            watched[dimension["Value"]["Fn::GetAtt"][0]] = props
    assert set(watched) == queues
    for props in watched.values():
        assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert (props["Threshold"], props["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        # THEN the rollback route (every "<prefix>-…" alarm) never mistakes it for an endpoint alarm
        assert not props["AlarmName"].startswith(NAMES.endpoint_alarm_prefix)
        # AND someone is told: a parked event is seen before SQS drops it (retention 14 days at most)
        (action,) = props["AlarmActions"]
        assert synth.resources[action["Ref"]]["Type"] == "AWS::SNS::Topic"


def test_cloudwatch_may_use_the_notification_key_only_for_this_account(synth: Synth) -> None:
    (key,) = synth.of_type("AWS::KMS::Key").values()
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    (cloudwatch,) = [s for s in statements if s["Principal"].get("Service") == "cloudwatch.amazonaws.com"]
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_idempotency_outlives_every_redelivery_window() -> None:
    # EventBridge retries and Lambda's async queue give up after max event age; a duplicate can only come earlier
    assert DEFAULT_MAX_EVENT_AGE.to_seconds() < ONE_DAY_S


def test_functions_are_sized_and_training_is_capped(synth: Synth) -> None:
    for props in sluice_functions(synth).values():
        spec = FUNCTIONS[_service(props)]
        assert (props["MemorySize"], props["Timeout"]) == (spec.memory_mb, spec.timeout_s)
        assert 128 < props["MemorySize"] <= 10240 and 3 < props["Timeout"] <= 900
        # a new account (concurrency quota 10, of which Lambda keeps 10 unreserved) can deploy the default
        assert "ReservedConcurrentExecutions" not in props
        assert props.get("EphemeralStorage", {"Size": 512})["Size"] == spec.ephemeral_mb
    # validation writes the normalized copy of a drop to /tmp: a 4M x 20 drop alone passes the default 512 MB
    assert FUNCTIONS["validate_dataset"].ephemeral_mb == 10240
    # training is the expensive one: a burst of drops queues up instead of fanning out
    assert FUNCTIONS["train_model"].reserved_concurrency == 2
    assert FUNCTIONS["train_model"].timeout_s == 900


def test_reserved_concurrency_is_opt_in_for_an_account_with_a_raised_quota(tmp_path: Path) -> None:
    # GIVEN an account whose concurrency quota was raised WHEN synthesized with -c reserve_concurrency=true
    # THEN each function reserves what its spec says (training: 2, so a burst of drops queues up)
    raised = synthesize(tmp_path, reserve_concurrency="true")
    for props in sluice_functions(raised).values():
        assert props.get("ReservedConcurrentExecutions") == FUNCTIONS[_service(props)].reserved_concurrency
