"""The sample events in events/ match exactly the routes they are meant for (through moto's EventBridge)."""

from __future__ import annotations

import json
from typing import Any

import pytest

SAMPLES = {
    "s3_object_created.json": "dataset-dropped",
    "dataset_accepted.json": "dataset-accepted",
    "model_trained.json": "model-trained",
    "model_evaluated_approved.json": "model-approved",
    "approval_decided.json": "approval-decided",
    "alarm_state_change.json": "endpoint-alarm",
    "drift_detected.json": "drift-detected",
    "feedback_object_created.json": "feedback-dropped",
    "score_object_created.json": "score-dropped",
    "sagemaker_training_job_state_change.json": "training-job-ended",
}


@pytest.mark.parametrize(("sample", "route"), sorted(SAMPLES.items()))
def test_sample_reaches_only_its_route(cloud: Any, event: Any, sample: str, route: str) -> None:
    # GIVEN a sample event put on the bus its source uses
    body = event(sample)
    bus = cloud.settings.event_bus if body["source"] == "sluice" else "default"
    cloud.clients.events.put_events(Entries=[{
        "Source": body["source"], "DetailType": body["detail-type"], "Detail": json.dumps(body["detail"]),
        "Resources": body["resources"], "EventBusName": bus,
    }])
    # THEN exactly the intended route's queue received it
    reached = set()
    for name, url in cloud.provisioned.route_queues.items():
        if cloud.clients.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            reached.add(name)
    assert reached == {route}


def test_a_rejected_evaluation_reaches_no_route(cloud: Any, event: Any) -> None:
    body = event("model_evaluated_approved.json")
    body["detail"]["approved"] = False
    cloud.clients.events.put_events(Entries=[{
        "Source": "sluice", "DetailType": "ModelEvaluated", "Detail": json.dumps(body["detail"]),
        "EventBusName": cloud.settings.event_bus,
    }])
    assert not any(cloud.clients.sqs.receive_message(QueueUrl=url).get("Messages")
                   for url in cloud.provisioned.route_queues.values())


def test_the_schedule_sample_names_a_provisioned_retrain_rule(cloud: Any, event: Any) -> None:
    rule_arn = event("scheduled_retrain.json")["resources"][0]
    assert rule_arn == cloud.provisioned.schedule_rules["breast-cancer"]


def test_the_drift_schedule_sample_names_a_provisioned_drift_rule(cloud: Any, event: Any) -> None:
    rule_arn = event("scheduled_drift.json")["resources"][0]
    assert rule_arn == cloud.provisioned.schedules[("drift-schedule", "breast-cancer")]
