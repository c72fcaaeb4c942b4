"""Every documented event shape in events/ parses into the typed item its trigger acts on (no AWS needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sluice.events.sources import (
    AlarmChanged,
    EventError,
    Malformed,
    ObjectCreated,
    S3TestNotification,
    ScheduleFired,
    SluiceEvent,
    TrainingJobChanged,
    Unrecognised,
    parse,
)
from sluice.events.targets import scheduled_model
from sluice.naming import ResourceNames
from tests.conftest import load_event

DECODED_KEY = "incoming/breast-cancer/breast cancer + notes.csv"
MODELS = ("breast-cancer", "diabetes")
NAMES = ResourceNames("sluice")


def _one(event: Any, request_id: str = "request-1") -> Any:
    items = parse(event, request_id=request_id)
    assert len(items) == 1, items
    return items[0]


@pytest.mark.parametrize("sample", ["s3_notification.json", "sqs_s3_notification.json", "sns_s3_notification.json"])
def test_a_classic_s3_notification_names_the_key_url_decoded(sample: str) -> None:
    # GIVEN a classic notification (direct, in SQS or in SNS) for "breast+cancer+%2B+notes.csv"
    # WHEN parsed THEN "+" is a space and "%2B" a plus
    created = _one(load_event(sample))
    assert isinstance(created, ObjectCreated)
    assert (created.bucket, created.key, created.shape) == ("sluice-data", DECODED_KEY, "s3-notification")
    assert created.etag == "4f1a0d9e0f3b6c2a8e5d7c9b1a3f5e7d" and created.size == 123865


@pytest.mark.parametrize("sample", ["s3_object_created.json", "sqs_eventbridge_s3.json"])
def test_an_eventbridge_object_created_keeps_the_key_as_sent(sample: str) -> None:
    event = load_event(sample)
    created = _one(event)
    assert isinstance(created, ObjectCreated) and created.shape == "eventbridge"
    assert created.key == "incoming/breast-cancer/breast_cancer.csv"
    assert created.version_id == "IYV3p45BhZA5.2iRzbVxGgJ9S_gqGQC."
    assert created.etag == "4f1a0d9e0f3b6c2a8e5d7c9b1a3f5e7d"
    # AND a "+" in an EventBridge key stays a "+" (EventBridge does not URL-encode)
    raw = load_event("s3_object_created.json")
    raw["detail"]["object"]["key"] = "incoming/breast-cancer/a+b.csv"
    assert _one(raw).key == "incoming/breast-cancer/a+b.csv"


def test_an_eventbridge_etag_spelled_as_moto_spells_it_is_read() -> None:
    # GIVEN moto's S3 → EventBridge event, whose object carries "eTag" where AWS documents "etag"
    raw = load_event("s3_object_created.json")
    raw["detail"]["object"]["eTag"] = raw["detail"]["object"].pop("etag")
    # WHEN parsed THEN the etag is read (drop ids and idempotency keys depend on it)
    assert _one(raw).etag == "4f1a0d9e0f3b6c2a8e5d7c9b1a3f5e7d"


def test_the_same_object_through_any_wrapper_has_one_idempotency_key() -> None:
    keys = {_one(load_event(sample)).idempotency_key
            for sample in ("s3_notification.json", "sqs_s3_notification.json", "sns_s3_notification.json")}
    assert len(keys) == 1


def test_s3s_test_event_is_recognised_as_such() -> None:
    assert _one(load_event("sqs_s3_test_event.json")) == S3TestNotification("sluice-data")


def test_a_rule_schedule_and_a_scheduler_schedule_through_eventbridge() -> None:
    rule = _one(load_event("scheduled_retrain.json"))
    assert isinstance(rule, ScheduleFired) and (rule.name, rule.shape) == ("sluice-retrain-breast-cancer", "rule")
    through_bus = load_event("scheduled_retrain.json")
    through_bus["resources"] = ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/sluice-retrain-diabetes"]
    fired = _one(through_bus)
    assert (fired.name, fired.shape) == ("sluice-retrain-diabetes", "scheduler")
    assert scheduled_model(fired, kind="retrain", action="retrain", names=NAMES, models=MODELS) == "diabetes"


def test_a_scheduler_input_names_the_model_and_each_invocation_is_its_own_occurrence() -> None:
    # GIVEN Scheduler's input as the event WHEN parsed for two invocations
    first = _one(load_event("scheduler_input.json"), request_id="r1")
    second = _one(load_event("scheduler_input.json"), request_id="r2")
    # THEN the model and action are read, and the two firings are not duplicates of each other
    assert isinstance(first, ScheduleFired) and (first.model, first.action) == ("breast-cancer", "retrain")
    assert first.idempotency_key != second.idempotency_key
    assert scheduled_model(first, kind="retrain", action="retrain", names=NAMES, models=MODELS) == "breast-cancer"
    # AND Scheduler's execution id, when the input carries it, is the occurrence (a retry is a duplicate)
    templated = {"model": "breast-cancer", "execution_id": "e-1"}
    assert _one(templated, "r1").idempotency_key == _one(templated, "r2").idempotency_key


@pytest.mark.parametrize(("event", "message"), [
    ({}, "no input naming the model"),
    ({"model": "nope", "action": "retrain"}, "'nope', which is not configured"),
    ({"model": "breast-cancer", "action": "drift"}, "action 'drift' is not 'retrain'"),
])
def test_a_scheduler_input_that_cannot_be_acted_on_is_a_clear_error(event: dict[str, Any], message: str) -> None:
    fired = _one(event)
    with pytest.raises(EventError, match=message):
        scheduled_model(fired, kind="retrain", action="retrain", names=NAMES, models=MODELS)


def test_a_scheduler_input_with_an_unknown_key_is_malformed() -> None:
    # GIVEN an input naming a model, with a misspelt key WHEN parsed THEN it is refused, naming the key
    item = _one({"model": "breast-cancer", "actoin": "retrain"})
    assert isinstance(item, Malformed) and "unknown key 'actoin'" in item.error


@pytest.mark.parametrize(("sample", "name", "composite", "shape"), [
    ("alarm_state_change.json", "sluice-breast-cancer-errors", False, "eventbridge"),
    ("alarm_lambda_action.json", "sluice-breast-cancer-errors", False, "alarm-action"),
    ("composite_alarm_state_change.json", "sluice-breast-cancer-health", True, "eventbridge"),
    ("composite_alarm_lambda_action.json", "sluice-breast-cancer-health", True, "alarm-action"),
    ("sns_alarm_notification.json", "sluice-breast-cancer-errors", False, "sns-notification"),
])
def test_alarm_state_changes_in_every_shape(sample: str, name: str, composite: bool, shape: str) -> None:
    alarm = _one(load_event(sample))
    assert isinstance(alarm, AlarmChanged)
    assert (alarm.alarm_name, alarm.state, alarm.composite, alarm.shape) == (name, "ALARM", composite, shape)
    assert alarm.timestamp.startswith("2026-11-27T11:04:4")


def test_the_same_alarm_state_change_by_rule_action_or_topic_has_one_key() -> None:
    keys = {_one(load_event(sample)).idempotency_key
            for sample in ("alarm_state_change.json", "alarm_lambda_action.json", "sns_alarm_notification.json")}
    assert len(keys) == 1


def test_sluice_events_parse_and_a_missing_fact_is_malformed() -> None:
    accepted = _one(load_event("dataset_accepted.json"))
    assert isinstance(accepted, SluiceEvent) and accepted.model == "breast-cancer"
    assert accepted.text("data_version") == "0123456789abcdef"
    with pytest.raises(EventError, match="has no model version"):
        _ = accepted.version
    broken = load_event("dataset_accepted.json")
    del broken["detail"]["model"]
    item = _one(broken)
    assert isinstance(item, Malformed) and "DatasetAccepted" in item.error and "model" in item.error


@pytest.mark.parametrize("event", [
    {"version": "0", "id": "1", "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
     "account": "1", "time": "2026-11-27T00:00:00Z", "region": "us-east-1", "resources": [], "detail": {}},
    {"Records": [{"eventSource": "aws:dynamodb", "dynamodb": {}}]},
    {"hello": "world"},
    ["not", "an", "object"],
])
def test_events_not_for_sluice_are_unrecognised_not_errors(event: Any) -> None:
    assert isinstance(_one(event), Unrecognised)


def test_an_s3_removal_is_not_an_upload() -> None:
    event = load_event("s3_notification.json")
    event["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert isinstance(_one(event), Unrecognised)


def test_an_sqs_body_that_is_not_json_is_malformed_and_names_the_message() -> None:
    event = load_event("sqs_s3_notification.json")
    event["Records"][0]["body"] = "{truncated"
    item = _one(event)
    assert isinstance(item, Malformed) and "059f36b4" in item.error


def test_an_alarm_action_without_its_state_is_malformed_in_one_line() -> None:
    event = load_event("alarm_lambda_action.json")
    del event["alarmData"]["state"]
    item = _one(event)
    assert isinstance(item, Malformed) and "\n" not in item.error and "state" in item.error


def test_every_sample_event_parses_into_something_sluice_knows() -> None:
    from tests.conftest import EVENTS

    for path in sorted(EVENTS.glob("*.json")):
        if path.name.startswith("predict_"):
            continue  # HTTP requests are the predict function's, not a trigger's
        items = parse(json.loads(path.read_text()), request_id="r")
        assert items and not any(isinstance(item, Unrecognised | Malformed) for item in items), path.name


def test_a_training_job_state_change_is_read_with_its_cost_and_key() -> None:
    # GIVEN SageMaker's "Training Job State Change" (times in epoch milliseconds, as AWS documents the event)
    event = load_event("sagemaker_training_job_state_change.json")
    item = _one(event)
    # THEN the job, its status, its version's hyperparameters and its billable and training time are read
    assert isinstance(item, TrainingJobChanged)
    assert item.status == "Completed" and item.hyperparameters["model"] == "breast-cancer"
    assert item.billable_s == 1266 and item.training_s == 1266.0 and item.instance_type == "ml.m5.2xlarge"
    assert item.model_artifacts.endswith("/output/model.tar.gz")
    # AND the same change sent twice (SageMaker may) has one key; a later status another
    assert _one(load_event("sagemaker_training_job_state_change.json")).idempotency_key == item.idempotency_key
    failed = load_event("sagemaker_training_job_state_change.json")
    failed["detail"].update({"TrainingJobStatus": "Failed", "FailureReason": "AlgorithmError: boom"})
    other = _one(failed)
    assert isinstance(other, TrainingJobChanged) and other.failure_reason == "AlgorithmError: boom"
    assert other.idempotency_key != item.idempotency_key


def test_a_training_job_state_change_without_its_job_is_malformed() -> None:
    event = load_event("sagemaker_training_job_state_change.json")
    del event["detail"]["TrainingJobArn"]
    item = _one(event)
    assert isinstance(item, Malformed) and "TrainingJobArn" in item.error
