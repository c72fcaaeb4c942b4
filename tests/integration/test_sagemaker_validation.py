"""Validation on SageMaker, played by the local stack: a drop above ``[data] processing_job_above_mb`` is validated
by a processing job running the same validator, and settles exactly as the Lambda path would (accepted and trained,
or quarantined with the same report); a failing job quarantines with its reason; duplicate state changes act once."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sluice.config import load_config
from sluice.data import check_file
from sluice.demo import samples
from sluice.registry import DynamoDBRegistry, Status
from sluice.storage import accepted_manifest_key
from tests.conftest import CONFIG, REPO, trials_only

MODEL = "breast-cancer"
pytestmark = pytest.mark.slow


def _config(directory: Path, threshold_mb: float) -> Path:
    """sluice.toml with the model's drops above ``threshold_mb`` validated by a processing job (training stays in
    the Lambda: the dataset is small)."""
    text = re.sub(r"(?m)^backend = .*\n", 'backend = "lambda"\n', trials_only(CONFIG.read_text()))
    head = f"[models.{MODEL}.data]\n"
    assert head in text
    path = directory / "sluice.toml"
    path.write_text(text.replace(head, f"{head}processing_job_above_mb = {threshold_mb}\n", 1))
    return path


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Any]:
    from sluice.local import LocalCloud, ScriptedMeter

    # 0.001 MB: the 569-row sample (about 120 KB) and its 40-row damaged copy are above it
    with LocalCloud(_config(tmp_path, 0.001), functions_dir=REPO / "functions", meter=ScriptedMeter()) as started:
        yield started


def _events(cloud: Any, detail_type: str) -> list[dict[str, Any]]:
    return [entry.detail for entry in cloud.timeline if entry.kind == "event" and entry.name == detail_type]


def _jobs(cloud: Any) -> list[dict[str, Any]]:
    return [entry.detail for entry in cloud.timeline if entry.kind == "job"]


def _state_change(cloud: Any, name: str, **changes: Any) -> dict[str, Any]:
    """The job's state change as EventBridge delivers it (the sample in events/, this job's facts)."""
    job = cloud.clients.sagemaker.describe_processing_job(ProcessingJobName=name)
    sample = json.loads((REPO / "events" / "sagemaker_processing_job_state_change.json").read_text())
    sample["resources"] = [job["ProcessingJobArn"]]
    sample["detail"].update({key: job[key] for key in ("ProcessingJobName", "ProcessingJobArn", "ProcessingInputs",
                                                       "ProcessingOutputConfig", "AppSpecification", "RoleArn")})
    sample["detail"].update({"ProcessingJobStatus": job["ProcessingJobStatus"], **changes})
    return sample


def _expected_report(path: Path, key: str) -> dict[str, Any]:
    """What the Lambda path reports on ``path``: check_file's verdict (validate_dataset's own validator)."""
    contract = load_config(CONFIG).model(MODEL).contract
    with path.open("rb") as file:
        return check_file(file, key, contract, version=True).to_dict()


def _object(cloud: Any, key: str) -> bytes:
    body: bytes = cloud.clients.s3.get_object(Bucket=cloud.settings.data_bucket, Key=key)["Body"].read()
    return body


def test_a_drop_above_the_threshold_is_validated_by_a_job_and_trains(cloud: Any) -> None:
    # GIVEN drops above 0.001 MB go to a processing job
    # WHEN the 569-row dataset is dropped and the events flow
    key = cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle()
    # THEN validate_dataset started one processing job: the raw drop in, validation/<model>/<job>/ out, the ML image
    # running sluice.jobs.validate as the stage's validation role
    (summary,) = cloud.clients.sagemaker.list_processing_jobs()["ProcessingJobSummaries"]
    name = summary["ProcessingJobName"]
    job = cloud.clients.sagemaker.describe_processing_job(ProcessingJobName=name)
    assert name.startswith("sluice-validate-breast-cancer-")
    (given,) = job["ProcessingInputs"]
    assert given["S3Input"]["S3Uri"] == f"s3://sluice-data/{key}"
    assert given["S3Input"]["LocalPath"] == "/opt/ml/processing/input/drop"
    (output,) = job["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"] == f"s3://sluice-data/validation/{MODEL}/{name}/"
    assert job["AppSpecification"]["ContainerEntrypoint"] == ["python3", "-m", "sluice.jobs.validate"]
    assert job["RoleArn"].endswith(":role/sluice-validate-job")
    (started,) = [entry.detail for entry in cloud.timeline
                  if entry.kind == "invoke" and entry.name == "validate_dataset"
                  and entry.detail.get("outcome") == "validating"]
    assert started["job"] == name
    # AND the job ran in its own process and completed; DescribeProcessingJob says so
    (played,) = _jobs(cloud)
    assert played["kind"] == "Processing" and played["status"] == "Completed"
    assert job["ProcessingJobStatus"] == "Completed"
    # AND its state change accepted the same data version the Lambda path computes, with the same manifest
    expected = _expected_report(samples.BREAST_CANCER, key)
    (accepted,) = _events(cloud, "DatasetAccepted")
    assert accepted["data_version"] == expected["data_version"] and accepted["rows"] == 569
    manifest = json.loads(_object(cloud, accepted_manifest_key(MODEL, accepted["data_version"])))
    assert manifest["validation"] == expected and manifest["source"] == f"s3://sluice-data/{key}"
    assert _object(cloud, accepted["data_key"])[:4] == b"PAR1"
    # AND the version trained on it went live; the raw drop is still in incoming/
    registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
    assert registry.get_version(MODEL, 1).status is Status.LIVE
    assert _object(cloud, key) == samples.BREAST_CANCER.read_bytes()

    # WHEN the same state change arrives again: twice as sent, once re-sent with a later time
    results = [cloud.invoke("validate_dataset", _state_change(cloud, name)) for _ in range(2)]
    results.append(cloud.invoke("validate_dataset", _state_change(cloud, name, LastModifiedTime=9_999_999_999_999)))
    # THEN it acts once (a job reaches its final status once): the first outcome replayed, no second
    # DatasetAccepted, no second version
    assert results[0] == results[1] == results[2] and results[0]["data_version"] == accepted["data_version"]
    assert len(_events(cloud, "DatasetAccepted")) == 1
    assert len(registry.list_versions(MODEL)) == 1
    # AND the same drop delivered again starts no second job (SageMaker refuses its name: ResourceInUse)
    request = {key: job[key] for key in ("ProcessingJobName", "ProcessingInputs", "ProcessingOutputConfig",
                                         "AppSpecification", "RoleArn")}
    with pytest.raises(ClientError) as refused:
        cloud.clients.sagemaker.create_processing_job(
            **request, ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                               "VolumeSizeInGB": 30}})
    assert refused.value.response["Error"]["Code"] == "ResourceInUse"


def test_a_bad_drop_above_the_threshold_is_quarantined_with_the_lambda_paths_report(cloud: Any,
                                                                                     tmp_path: Path) -> None:
    # GIVEN a damaged extract above the threshold
    broken = tmp_path / "broken.csv"
    broken.write_bytes(samples.broken_copy(samples.BREAST_CANCER))
    key = cloud.drop(broken, MODEL)
    # WHEN it is validated
    cloud.run_until_idle()
    # THEN a job judged it (completed: a rejection is a verdict, not a failure) and the drop is quarantined with
    # the report the Lambda path writes: check_file's verdict, its source and etag
    (played,) = _jobs(cloud)
    assert played["status"] == "Completed"
    (rejected,) = _events(cloud, "DatasetRejected")
    # S3's events carry the ETag unquoted
    etag = cloud.clients.s3.head_object(Bucket=cloud.settings.data_bucket, Key=key)["ETag"].strip('"')
    report = json.loads(_object(cloud, rejected["report_key"]))
    assert report == {**_expected_report(broken, key), "source": f"s3://sluice-data/{key}", "etag": etag}
    prefix = rejected["report_key"].rsplit("/", 1)[0]
    assert _object(cloud, f"{prefix}/summary.txt").decode() == report["summary"]
    assert _object(cloud, f"{prefix}/broken.csv") == _object(cloud, key) == broken.read_bytes()
    assert not _events(cloud, "DatasetAccepted")

    # WHEN the job's state change is delivered again, re-sent with a later time
    (summary,) = cloud.clients.sagemaker.list_processing_jobs()["ProcessingJobSummaries"]
    again = cloud.invoke("validate_dataset",
                         _state_change(cloud, summary["ProcessingJobName"], LastModifiedTime=9_999_999_999_999))
    # THEN the drop is not quarantined twice: the first outcome is replayed
    assert again["outcome"] == "rejected" and again["report_key"] == rejected["report_key"]
    assert len(_events(cloud, "DatasetRejected")) == 1


def test_a_failing_job_quarantines_the_drop_with_its_reason(cloud: Any) -> None:
    # GIVEN a drop whose job will fail: the configuration the job reads is broken once validate_dataset started it
    player, cloud.jobs = cloud.jobs, None
    key = cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle()
    cloud.config_path.write_text("this is not TOML [")
    # WHEN the job plays and its state change flows
    cloud.jobs = player
    cloud.run_until_idle()
    # THEN the job failed with the reason its entrypoint wrote (ExitMessage), and the drop is quarantined with it
    (played,) = _jobs(cloud)
    assert played["status"] == "Failed" and played["exit_message"]
    (rejected,) = _events(cloud, "DatasetRejected")
    report = json.loads(_object(cloud, rejected["report_key"]))
    (issue,) = report["issues"]
    assert issue["rule"] == "validation_job_failed" and played["exit_message"] in issue["message"]
    assert report["summary"].startswith("REJECTED: validation_job_failed: validation job sluice-validate-")
    # AND nothing is lost: the raw drop is still in incoming/, nothing was accepted
    assert _object(cloud, key) == samples.BREAST_CANCER.read_bytes()
    assert not _events(cloud, "DatasetAccepted")
    (summary,) = cloud.clients.sagemaker.list_processing_jobs()["ProcessingJobSummaries"]
    job = cloud.clients.sagemaker.describe_processing_job(ProcessingJobName=summary["ProcessingJobName"])
    assert job["ProcessingJobStatus"] == "Failed" and job["ExitMessage"] == played["exit_message"]


def test_the_sample_state_change_reaches_only_the_validation_route(cloud: Any) -> None:
    # GIVEN the sample "SageMaker Processing Job State Change" put on the default bus
    body = json.loads((REPO / "events" / "sagemaker_processing_job_state_change.json").read_text())
    cloud.clients.events.put_events(Entries=[{"Source": body["source"], "DetailType": body["detail-type"],
                                              "Detail": json.dumps(body["detail"]), "Resources": body["resources"]}])
    # THEN exactly the validation-job-ended route's queue received it
    reached = {name for name, url in cloud.provisioned.route_queues.items()
               if cloud.clients.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages")}
    assert reached == {"validation-job-ended"}


def test_a_completion_killed_before_its_event_is_retried_and_announces_once(cloud: Any, monkeypatch: Any) -> None:
    # GIVEN validate_dataset's completion fails once after the data, manifest and registry record are written,
    # before DatasetAccepted is put (a crash between the writes and the announcement)
    from sluice.events.publisher import EventPublisher

    original = EventPublisher.publish
    failed: list[dict[str, Any]] = []

    def publish_once_failing(self: Any, detail_type: Any, detail: dict[str, Any]) -> Any:
        if detail_type.value == "DatasetAccepted" and not failed:
            failed.append(detail)
            raise ConnectionError("killed before DatasetAccepted")
        return original(self, detail_type, detail)

    monkeypatch.setattr(EventPublisher, "publish", publish_once_failing)
    # WHEN a drop above the threshold is validated by its job, whose state change's first delivery fails
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle(raise_errors=False)
    assert len(failed) == 1 and not _events(cloud, "DatasetAccepted")
    # AND Lambda retries the asynchronous invocation (the local runtime does not: the test delivers it again)
    (summary,) = cloud.clients.sagemaker.list_processing_jobs()["ProcessingJobSummaries"]
    retried = cloud.invoke("validate_dataset", _state_change(cloud, summary["ProcessingJobName"]))
    cloud.run_until_idle()
    # THEN the retry settled the drop: one DatasetAccepted, one data version, version 1 trained on it
    assert retried["outcome"] == "accepted"
    (accepted,) = _events(cloud, "DatasetAccepted")
    assert accepted["data_version"] == failed[0]["data_version"]
    registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
    assert [record.data_version for record in registry.list_datasets(MODEL)] == [accepted["data_version"]]
    assert registry.get_version(MODEL, 1).status is Status.LIVE
