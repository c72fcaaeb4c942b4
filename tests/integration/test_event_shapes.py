"""Every documented shape of a trigger, from events/, fed to the real handler on the local stack: the validated
object is read at exactly the right key, the retrain starts for the named model, the rollback is done, an event
not for sluice is ignored with a log line, a malformed one is a one-line error — and no handler raises."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sluice.clock import iso
from sluice.demo import samples
from sluice.registry import Status
from sluice.wiring import ROUTES, ScheduleTrigger
from tests.conftest import EVENTS, load_event
from tests.integration.releases import MODEL, approved, deploy, live_with, registry_of

pytestmark = pytest.mark.slow

DECODED_KEY = "incoming/breast-cancer/breast cancer + notes.csv"
ENCODED_KEY = "incoming/breast-cancer/breast+cancer+%2B+notes.csv"
CLASSIC = ["s3_notification.json", "sqs_s3_notification.json", "sns_s3_notification.json"]
SCHEDULED = {route.function for route in ROUTES if isinstance(route.trigger, ScheduleTrigger)}


@pytest.fixture
def logged(cloud: Any) -> Iterator[list[logging.LogRecord]]:
    """The sluice logger's records at INFO and above while the test runs (the local stack logs only errors)."""
    from sluice.observability import logger

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    target = logging.getLogger(logger.service)
    keep, level = Keep(), target.level
    target.addHandler(keep)
    target.setLevel(logging.INFO)
    yield records
    target.removeHandler(keep)
    target.setLevel(level)


def _put(cloud: Any, key: str, body: bytes) -> None:
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=key, Body=body)


def _sources(cloud: Any) -> tuple[str, ...]:
    record = registry_of(cloud).latest_dataset(MODEL)
    return () if record is None else record.sources


def _lines(records: list[logging.LogRecord], level: int) -> list[str]:
    return [record.getMessage() for record in records if record.levelno == level]


@pytest.mark.parametrize("sample", CLASSIC)
def test_a_classic_notification_is_validated_at_exactly_the_decoded_key(cloud: Any, sample: str) -> None:
    # GIVEN "breast cancer + notes.csv" dropped, and a decoy stored under the key as the notification spells it
    _put(cloud, DECODED_KEY, samples.BREAST_CANCER.read_bytes())
    _put(cloud, ENCODED_KEY, b"not,the,file\n")
    # WHEN validate_dataset receives the classic notification (direct, in SQS or in SNS)
    result = cloud.invoke("validate_dataset", load_event(sample))
    # THEN the decoded key was read and accepted (SQS answers with no failed item)
    if sample.startswith("sqs_"):
        assert result == {"batchItemFailures": []}
    else:
        assert result["outcome"] == "accepted"
    assert _sources(cloud) == (f"s3://{cloud.settings.data_bucket}/{DECODED_KEY}",)


def test_an_eventbridge_event_in_sqs_is_validated_at_its_key(cloud: Any) -> None:
    key = "incoming/breast-cancer/breast_cancer.csv"
    _put(cloud, key, samples.BREAST_CANCER.read_bytes())
    assert cloud.invoke("validate_dataset", load_event("sqs_eventbridge_s3.json")) == {"batchItemFailures": []}
    assert _sources(cloud) == (f"s3://{cloud.settings.data_bucket}/{key}",)


def test_one_bad_record_in_an_sqs_batch_does_not_retry_the_batch(cloud: Any, logged: list[Any]) -> None:
    # GIVEN a batch of four: a good drop, a drop whose object is not there (yet), a body that is not JSON, and
    # S3's test message
    _put(cloud, DECODED_KEY, samples.BREAST_CANCER.read_bytes())
    good = load_event("sqs_s3_notification.json")["Records"][0]
    missing = json.loads(json.dumps(good))
    body = json.loads(missing["body"])
    body["Records"][0]["s3"]["object"]["key"] = "incoming/breast-cancer/not-there.csv"
    missing.update(messageId="missing-object", body=json.dumps(body))
    garbled = {**good, "messageId": "garbled", "body": "{\"Records\": [trunc"}
    test_event = load_event("sqs_s3_test_event.json")["Records"][0]
    # WHEN validate_dataset processes the batch
    result = cloud.invoke("validate_dataset", {"Records": [good, missing, garbled, test_event]})
    # THEN only the retriable record is reported for retry; the good one is accepted
    assert result == {"batchItemFailures": [{"itemIdentifier": "missing-object"}]}
    assert _sources(cloud) == (f"s3://{cloud.settings.data_bucket}/{DECODED_KEY}",)
    # AND the garbled body is one error line naming its message, the test message one ignore line
    errors = _lines(logged, logging.ERROR)
    assert any("garbled" in line and "not JSON" in line and "\n" not in line for line in errors)
    assert any("s3:TestEvent" in line for line in _lines(logged, logging.INFO))


def test_s3s_test_event_is_acknowledged_and_writes_nothing(cloud: Any, logged: list[Any]) -> None:
    assert cloud.invoke("validate_dataset", load_event("sqs_s3_test_event.json")) == {"batchItemFailures": []}
    listed = cloud.clients.s3.list_objects_v2(Bucket=cloud.settings.data_bucket).get("Contents", [])
    assert listed == []
    assert _lines(logged, logging.INFO) == ["validate ignored: s3:TestEvent of bucket sluice-data"]


def test_a_scheduler_input_retrains_the_model_it_names(cloud: Any) -> None:
    # GIVEN breast-cancer trained once from a drop
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle()
    # WHEN Scheduler invokes train_model with the input {"model": "breast-cancer", "action": "retrain"}
    result = cloud.invoke("train_model", load_event("scheduler_input.json"))
    # THEN that model's retrain ran: on unchanged data it is a recorded no-op, not a new identical version
    assert (result["outcome"], result["model"], result["same_as_version"]) == ("unchanged", MODEL, 1)
    # AND a second firing of the same schedule is a second retrain, not a replay of the first's response
    again = cloud.invoke("train_model", load_event("scheduler_input.json"))
    assert again["outcome"] == "unchanged"
    skips = [entry for entry in registry_of(cloud).history(MODEL) if entry.change == "skipped (unchanged)"]
    assert len(skips) == 2


def test_a_scheduler_input_for_a_model_without_data_is_a_recorded_skip_for_that_model(cloud: Any) -> None:
    result = cloud.invoke("train_model", {"model": "diabetes", "action": "retrain"})
    assert (result["outcome"], result["model"]) == ("skipped", "diabetes")


def test_scheduler_inputs_reach_the_drift_check_and_the_release_check_of_the_named_model(cloud: Any) -> None:
    # GIVEN no model live yet WHEN Scheduler asks for diabetes' drift check and release check
    drift = cloud.invoke("detect_drift", {"model": "diabetes", "action": "drift"})
    releases = cloud.invoke("deploy_model", {"model": "diabetes", "action": "check",
                                             "execution_id": "a1b2c3d4-scheduler-execution"})
    # THEN each ran for that model (nothing live to check: a recorded skip; no release in progress)
    assert (drift["outcome"], drift["model"], drift["reason"]) == ("skipped", "diabetes", "no live version")
    assert releases == {"outcome": "checked", "releases": [], "correlation_id": "a1b2c3d4-scheduler-execution"}
    # AND an action meant for another function is a one-line error, parked once in its dead-letter queue
    wrong = cloud.invoke("detect_drift", {"model": "diabetes", "action": "retrain"})
    assert wrong == {"outcome": "error", "parked": True,
                     "error": "schedule input action 'retrain' is not 'drift', the only action of this function"}


@pytest.mark.parametrize(("event", "message"), [
    (load_event("scheduler_no_input.json"), "no input naming the model"),
    ({"model": "no-such-model", "action": "retrain"}, "'no-such-model', which is not configured"),
    ({"model": MODEL, "action": "retrain", "modle": "x"}, "unknown key 'modle'"),
])
def test_a_schedule_for_sluice_that_cannot_be_acted_on_is_a_one_line_error(
        cloud: Any, logged: list[Any], event: dict[str, Any], message: str) -> None:
    # WHEN train_model is invoked by such a schedule THEN it answers (never raises) with one error line
    result = cloud.invoke("train_model", event)
    assert result["outcome"] == "error" and message in result["error"] and "\n" not in result["error"]
    assert [line for line in _lines(logged, logging.ERROR) if message in line] == [
        f"train refused the event: {result['error']}"]


def test_a_rule_schedule_not_named_by_sluice_is_ignored_with_a_log_line(cloud: Any, logged: list[Any]) -> None:
    event = load_event("scheduled_retrain.json")
    event["resources"] = ["arn:aws:events:us-east-1:123456789012:rule/nightly-reports"]
    result = cloud.invoke("train_model", event)
    assert result["outcome"] == "ignored"
    assert _lines(logged, logging.INFO) == ["train ignored: nightly-reports is not a sluice retrain schedule"]


def _alarm_now(cloud: Any, sample: str) -> dict[str, Any]:
    """The sample alarm event, its state change happening now (after the release)."""
    event = load_event(sample)
    stamp = iso(cloud.now())[:23] + "+0000"
    if "Records" in event:  # the alarm's SNS notification
        message = json.loads(event["Records"][0]["Sns"]["Message"])
        message["StateChangeTime"] = stamp
        event["Records"][0]["Sns"]["Message"] = json.dumps(message)
        return event
    data = event["alarmData"] if "alarmData" in event else event["detail"]
    data["state"]["timestamp"] = stamp
    if "triggeringAlarms" not in data["state"]["reasonData"]:
        data["state"]["reasonData"] = json.dumps({"version": "1.0", "startDate": iso(cloud.now() - 60)[:23] + "+0000",
                                                  "statistic": "Sum", "period": 60, "recentDatapoints": [4.0]})
    if "id" in event:
        event["id"] = str(uuid.uuid4())
    return event


@pytest.mark.parametrize("sample", ["alarm_lambda_action.json", "composite_alarm_lambda_action.json",
                                    "composite_alarm_state_change.json", "sns_alarm_notification.json"])
def test_an_alarm_in_any_shape_rolls_live_back(stack: Any, trained: Any, sample: str) -> None:
    # GIVEN v1 live, then v2 released at once
    cloud = stack(breast_cancer={"strategy": "all_at_once"})
    registry = registry_of(cloud)
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    deploy(cloud, MODEL, v2)
    assert registry.get_alias(MODEL, "live").version == v2  # type: ignore[union-attr]
    cloud.advance(30)
    # WHEN the alarm's state change reaches rollback_model (as its Lambda action, through SNS, or composite by
    # EventBridge)
    alarm = _alarm_now(cloud, sample)
    first = cloud.invoke("rollback_model", alarm)
    again = cloud.invoke("rollback_model", json.loads(json.dumps(alarm)))
    # THEN live is v1 again, once
    assert first["outcome"] == "rolled_back" and (first["from_version"], first["to_version"]) == (v2, 1)
    assert again == first
    assert registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    assert registry.get_version(MODEL, v2).status is Status.ROLLED_BACK


def test_an_alarm_action_that_is_not_alarm_or_not_sluices_is_ignored(cloud: Any, logged: list[Any]) -> None:
    ok = load_event("alarm_lambda_action.json")
    ok["alarmData"]["state"]["value"] = "OK"
    foreign = load_event("alarm_lambda_action.json")
    foreign["alarmData"]["alarmName"] = "billing-over-budget"
    assert cloud.invoke("rollback_model", ok)["outcome"] == "ignored"
    assert cloud.invoke("rollback_model", foreign)["outcome"] == "ignored"
    assert "rollback ignored: billing-over-budget is not a sluice endpoint alarm" in _lines(logged, logging.INFO)


# Which samples each trigger function acts on; every other sample must be acknowledged, never raised.
ACTS_ON = {
    "validate_dataset": {"s3_object_created.json", "sqs_eventbridge_s3.json",
                         "sagemaker_processing_job_state_change.json", *CLASSIC},
    "record_feedback": {"feedback_object_created.json"},
    "score_batch": {"score_object_created.json"},
    "train_model": {"dataset_accepted.json", "drift_detected.json", "scheduled_retrain.json", "scheduler_input.json",
                    "scheduler_no_input.json", "alarm_state_change.json", "alarm_lambda_action.json",
                    "composite_alarm_lambda_action.json", "composite_alarm_state_change.json",
                    "sns_alarm_notification.json", "sagemaker_training_job_state_change.json"},
    "evaluate_model": {"model_trained.json"},
    "deploy_model": {"model_evaluated_approved.json", "approval_decided.json"},
    "rollback_model": {"alarm_state_change.json", "alarm_lambda_action.json", "composite_alarm_lambda_action.json",
                       "composite_alarm_state_change.json", "sns_alarm_notification.json"},
    "detect_drift": {"scheduled_drift.json"},
}


@pytest.mark.parametrize("function", sorted(ACTS_ON))
def test_no_handler_raises_for_an_event_that_is_not_for_it(cloud: Any, function: str) -> None:
    others = sorted(path.name for path in EVENTS.glob("*.json")
                    if path.name not in ACTS_ON[function] and not path.name.startswith("predict_"))
    for sample in others:
        result = cloud.invoke(function, load_event(sample))
        if "batchItemFailures" in result:
            assert result == {"batchItemFailures": []}, (function, sample)
        elif sample.startswith("scheduler_") and function in SCHEDULED:
            # Scheduler invoking a scheduled function directly is for sluice, but this input cannot be acted on
            assert result["outcome"] == "error", (function, sample, result)
        else:
            assert result["outcome"] == "ignored", (function, sample, result)
