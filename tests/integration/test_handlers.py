"""Every handler, invoked with its sample event from events/ (the shapes AWS sends)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sluice.demo import samples
from sluice.registry import DynamoDBRegistry, Status

MODEL = "breast-cancer"
pytestmark = pytest.mark.slow


def _put_grown_sample_drop(cloud: Any) -> None:
    """An earlier delivery (the first 450 rows) trained as v1, then the whole file stored under the sample
    event's key with its notification not yet delivered: the samples then carry new data."""
    rows = samples.BREAST_CANCER.read_text().splitlines(keepends=True)
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key="incoming/breast-cancer/early.csv",
                                Body="".join(rows[:451]).encode())
    cloud.run_until_idle()
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key="incoming/breast-cancer/breast_cancer.csv",
                                Body=samples.BREAST_CANCER.read_bytes())


def test_each_handler_runs_on_its_sample_event(cloud: Any, event: Any) -> None:
    registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
    # validate_dataset ← S3 Object Created (EventBridge), for the grown file (v1 trained on its first rows);
    # a retrain on data a version already has would be a no-op, so the samples carry new data
    _put_grown_sample_drop(cloud)
    created = event("s3_object_created.json")
    result = cloud.invoke("validate_dataset", created)
    assert result["outcome"] == "accepted"
    data_version = result["data_version"]

    # train_model ← DatasetAccepted (sample, pointed at the real data version)
    accepted = event("dataset_accepted.json")
    accepted["detail"].update({"data_version": data_version, "correlation_id": "sample-accepted"})
    trained = cloud.invoke("train_model", accepted)
    assert trained["outcome"] == "trained"
    version = trained["version"]

    # evaluate_model ← ModelTrained
    model_trained = event("model_trained.json")
    model_trained["detail"].update({"version": version, "data_version": data_version,
                                    "correlation_id": "sample-trained"})
    evaluated = cloud.invoke("evaluate_model", model_trained)
    assert evaluated["outcome"] == "approved", evaluated["reasons"]

    # deploy_model ← ModelEvaluated (approved)
    approved = event("model_evaluated_approved.json")
    approved["detail"].update({"version": version, "correlation_id": "sample-evaluated"})
    deployed = cloud.invoke("deploy_model", approved)
    # (v1 is live and sluice.toml releases breast-cancer by canary: v2 starts a canary release)
    assert deployed["outcome"] == "release_started", deployed
    assert registry.get_version(MODEL, version).status is Status.CANARY

    # train_model ← Scheduled Event (the sample's rule is the breast-cancer retrain rule): no new data since
    # the version just trained, so a recorded no-op
    scheduled = cloud.invoke("train_model", event("scheduled_retrain.json"))
    assert scheduled["outcome"] == "unchanged" and scheduled["data_version"] == trained["data_version"]
    assert scheduled["same_as_version"] == version

    # rollback_model ← CloudWatch Alarm State Change (ALARM)
    alarm = cloud.invoke("rollback_model", event("alarm_state_change.json"))
    # (the sample alarm changed state on 2026-11-27, before the canary started: stale, so ignored)
    assert alarm["outcome"] == "ignored" and alarm["reason"].startswith("stale alarm: its state changed at"), alarm
    assert registry.get_version(MODEL, version).status is Status.CANARY

    # predict ← Function URL request
    predict_event = event("predict_function_url.json")
    response = cloud.http("POST", predict_event["rawPath"], predict_event["body"].encode())
    assert response.status == 200 and response.body["predictions"] == ["malignant"]


def test_duplicate_sluice_events_act_once(cloud: Any, event: Any) -> None:
    _put_grown_sample_drop(cloud)
    data_version = cloud.invoke("validate_dataset", event("s3_object_created.json"))["data_version"]
    registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
    versions_before = len(registry.list_versions(MODEL))
    accepted = event("dataset_accepted.json")
    accepted["detail"].update({"data_version": data_version, "correlation_id": "replayed"})
    first = cloud.invoke("train_model", accepted)
    again = cloud.invoke("train_model", json.loads(json.dumps(accepted)))
    assert first == again
    assert len(registry.list_versions(MODEL)) == versions_before + 1


def test_alarms_that_are_not_ALARM_or_not_ours_change_nothing(cloud: Any, event: Any) -> None:  # noqa: N802
    ok = event("alarm_state_change.json")
    ok["detail"]["state"]["value"] = "OK"
    assert cloud.invoke("rollback_model", ok)["outcome"] == "ignored"
    foreign = event("alarm_state_change.json")
    foreign["detail"]["alarmName"] = "someone-elses-alarm"
    assert cloud.invoke("rollback_model", foreign)["outcome"] == "ignored"


def test_a_schedule_before_any_data_is_a_recorded_skip(cloud: Any, event: Any) -> None:
    assert cloud.invoke("train_model", event("scheduled_retrain.json"))["outcome"] == "skipped"


def test_every_scheduled_retrain_runs_in_a_warm_container(cloud: Any) -> None:
    # GIVEN a model trained from a drop (the DatasetAccepted path ran first in this warm container)
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle()
    # WHEN the retrain schedule fires twice (two distinct scheduled events) with no new data
    first = cloud.fire_schedule(MODEL)
    second = cloud.fire_schedule(MODEL)
    # THEN both ran (one idempotency key per event, not one per handler): each is a recorded no-op against v1
    assert [result["outcome"] for result in (*first, *second)] == ["unchanged", "unchanged"]
    registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
    skips = [entry for entry in registry.history(MODEL) if entry.change == "skipped (unchanged)"]
    assert len(skips) == 2 and skips[0].correlation_id != skips[1].correlation_id
    assert [version.version for version in registry.list_versions(MODEL)] == [1]


def test_a_url_encoded_key_in_the_event_finds_the_dropped_object(cloud: Any, event: Any) -> None:
    # GIVEN "incoming/breast-cancer/my data (1).csv" stored, and an event naming it URL-encoded, as S3
    # notifications do ("my+data+%281%29.csv")
    key = "incoming/breast-cancer/my data (1).csv"
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=key, Body=samples.BREAST_CANCER.read_bytes())
    created = event("s3_object_created.json")
    created["detail"]["object"]["key"] = "incoming/breast-cancer/my+data+%281%29.csv"
    created["id"] = "encoded-key-delivery"
    # WHEN validate_dataset runs on it THEN the stored object is read and accepted
    result = cloud.invoke("validate_dataset", created)
    assert result["outcome"] == "accepted" and result["rows"] == len(samples.BREAST_CANCER.read_text().splitlines()) - 1
    record = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table).latest_dataset(MODEL)
    assert record is not None and record.sources == (f"s3://{cloud.settings.data_bucket}/{key}",)
