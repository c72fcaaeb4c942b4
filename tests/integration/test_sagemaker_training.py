"""Training on SageMaker, played by the local stack: the backend choice, a drop that trains in a training job and
goes live, a job that fails, and duplicate state changes (SageMaker may send several per change)."""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sluice.demo import samples
from sluice.registry import DynamoDBRegistry, Status
from sluice.storage import model_prefix
from tests.conftest import CONFIG, REPO, trials_only

MODEL = "breast-cancer"
pytestmark = pytest.mark.slow


def _config(directory: Path, training: str, sagemaker: str) -> Path:
    """sluice.toml with the model's ``[...training]`` table extended by ``training`` and a ``[...sagemaker]``
    table of ``sagemaker`` (TOML lines)."""
    text = re.sub(r"(?m)^backend = .*\n", "", trials_only(CONFIG.read_text()))  # sluice.toml's own choice
    head = f"[models.{MODEL}.training]\n"
    assert head in text
    text = text.replace(head, head + training + "\n", 1)
    if sagemaker:
        text += f"\n[models.{MODEL}.training.sagemaker]\n{sagemaker}\n"
    path = directory / "sluice.toml"
    path.write_text(text)
    return path


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Any]:
    from sluice.local import LocalCloud, ScriptedMeter

    started: list[Any] = []

    def start(training: str, sagemaker: str = "") -> Any:
        cloud = LocalCloud(_config(tmp_path, training, sagemaker), functions_dir=REPO / "functions",
                           meter=ScriptedMeter())
        started.append(cloud.start())
        return cloud

    yield start
    for cloud in started:
        cloud.stop()


def _registry(cloud: Any) -> DynamoDBRegistry:
    return DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)


def _invocations(cloud: Any, function: str) -> list[dict[str, Any]]:
    return [entry.detail for entry in cloud.timeline if entry.kind == "invoke" and entry.name == function]


def _events(cloud: Any, detail_type: str) -> list[dict[str, Any]]:
    return [entry.detail for entry in cloud.timeline if entry.kind == "event" and entry.name == detail_type]


def test_auto_trains_small_data_in_lambda(stack: Any) -> None:
    # GIVEN backend "auto" with the default threshold (what train_model's 3008 MB allows: millions of cells)
    cloud = stack('backend = "auto"')
    # WHEN the 569-row dataset is dropped and the events flow
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle()
    # THEN it trained in the Lambda: no training job, version 1 is live
    assert cloud.clients.sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
    assert not [entry for entry in cloud.timeline if entry.kind == "job"]
    v1 = _registry(cloud).get_version(MODEL, 1)
    assert v1.status is Status.LIVE and "training_job" not in v1.lineage


def test_auto_above_the_threshold_trains_on_sagemaker_and_goes_live(stack: Any) -> None:
    # GIVEN backend "auto" with a threshold below the dataset's rows x columns (569 x 31)
    cloud = stack('backend = "auto"',
                  'instance_type = "ml.m5.xlarge"\nspot = true\nmax_run_s = 1800\nauto_above_cells = 1000')
    # WHEN the dataset is dropped and the events flow
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle()
    # THEN train_model started one training job with the config's resources, and returned without training
    (summary,) = cloud.clients.sagemaker.list_training_jobs()["TrainingJobSummaries"]
    job = cloud.clients.sagemaker.describe_training_job(TrainingJobName=summary["TrainingJobName"])
    assert job["TrainingJobName"].startswith("sluice-train-breast-cancer-v1-")
    assert job["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge" and job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 1800
    assert job["RoleArn"].endswith(":role/sluice-breast-cancer-train-job")
    assert job["AlgorithmSpecification"]["ContainerEntrypoint"] == ["python3", "-m", "sluice.jobs.train"]
    (channel,) = job["InputDataConfig"]
    assert channel["DataSource"]["S3DataSource"]["S3Uri"].startswith("s3://sluice-data/accepted/breast-cancer/")
    started = [result for result in _invocations(cloud, "train_model") if result.get("outcome") == "training"]
    assert len(started) == 1 and "above 1000" in started[0]["choice"]
    # AND the played job completed in its own process, DescribeTrainingJob says so
    (played,) = [entry.detail for entry in cloud.timeline if entry.kind == "job"]
    assert played["status"] == "Completed" and played["peak_rss_mb"] > 0
    assert job["TrainingJobStatus"] == "Completed" and job["BillableTimeInSeconds"] >= 1
    # AND its state change made version 1 a candidate that was evaluated and went live, job recorded
    v1 = _registry(cloud).get_version(MODEL, 1)
    assert v1.status is Status.LIVE and len(v1.artifact_sha256) == 64
    recorded = v1.lineage["training_job"]
    assert recorded["arn"] == job["TrainingJobArn"] and recorded["instance_type"] == "ml.m5.xlarge"
    assert recorded["billable_s"] >= 1
    # AND the artifacts sit where the Lambda path writes them (serving answers from them)
    files = _model_files(cloud, 1)
    assert {"signature.json", "training.json", "pipeline.pkl"} <= files
    (tarball,) = [name for name in files if name.endswith("/output/model.tar.gz")]
    body = cloud.clients.s3.get_object(Bucket=cloud.settings.artifact_bucket,
                                       Key=model_prefix(MODEL, 1) + tarball)["Body"].read()
    assert "training.json" in _tar_names(body) and tarball.startswith("sagemaker/" + job["TrainingJobName"])
    response = cloud.predict(MODEL, samples.instances(samples.BREAST_CANCER, "diagnosis", 5)[0])
    assert response.status == 200 and response.body["model_version"] == "1"

    # WHEN the same state change is delivered twice more (SageMaker may send several per change)
    (rule_event,) = [entry for entry in cloud.timeline
                     if entry.kind == "event" and entry.name == "SageMaker Training Job State Change"]
    event = _state_change(cloud, job)
    results = [cloud.invoke("train_model", event) for _ in range(2)]
    # THEN nothing more happens: one ModelTrained, version 1 still live, the second delivery a replay
    assert results[0] == results[1]
    assert len(_events(cloud, "ModelTrained")) == 1 and rule_event is not None
    assert _registry(cloud).get_version(MODEL, 1).status is Status.LIVE

    # WHEN the same DatasetAccepted is delivered again (its train_model ran already: same claim, same job name)
    (accepted,) = _events(cloud, "DatasetAccepted")
    again = cloud.invoke("train_model", _sluice_event("DatasetAccepted", accepted, event_id="redelivered"))
    # THEN no second job and no second version
    assert len(cloud.clients.sagemaker.list_training_jobs()["TrainingJobSummaries"]) == 1
    # AND a second CreateTrainingJob under the job's name is refused as SageMaker refuses it (job names are unique
    # per account and region: CreateTrainingJob, "Errors": ResourceInUse), which train_model reads as "started"
    request = {key: job[key] for key in ("TrainingJobName", "HyperParameters", "AlgorithmSpecification", "RoleArn",
                                         "InputDataConfig", "OutputDataConfig", "ResourceConfig", "StoppingCondition")}
    with pytest.raises(ClientError) as refused:
        cloud.clients.sagemaker.create_training_job(**request)
    assert refused.value.response["Error"]["Code"] == "ResourceInUse"
    assert len(_registry(cloud).list_versions(MODEL)) == 1
    assert again["outcome"] in ("training", "trained")


def test_a_failed_job_fails_the_version_with_its_reason(stack: Any) -> None:
    # GIVEN training on SageMaker, and a DatasetAccepted announcing a data version whose data is not in S3
    cloud = stack('backend = "sagemaker"')
    detail = {"model": MODEL, "data_version": "d-missing", "correlation_id": "c-missing", "contract_version": ""}
    # WHEN train_model receives it and the job plays
    result = cloud.invoke("train_model", _sluice_event("DatasetAccepted", detail, event_id="e-missing"))
    assert result["outcome"] == "training"
    cloud.run_until_idle()
    # THEN the job failed (its entrypoint found no data in its channel), and so did version 1, with the reason
    (played,) = [entry.detail for entry in cloud.timeline if entry.kind == "job"]
    assert played["status"] == "Failed"
    assert played["failure_reason"].startswith("AlgorithmError: FileNotFoundError: the accepted data ")
    (failed,) = _events(cloud, "TrainingFailed")
    assert failed["version"] == 1 and failed["reason"] == played["failure_reason"]
    v1 = _registry(cloud).get_version(MODEL, 1)
    assert v1.status is Status.FAILED and v1.lineage["training_job"]["status"] == "Failed"
    job = cloud.clients.sagemaker.describe_training_job(TrainingJobName=v1.lineage["training_job"]["name"])
    assert job["TrainingJobStatus"] == "Failed" and job["FailureReason"] == played["failure_reason"]


def _state_change(cloud: Any, job: dict[str, Any]) -> dict[str, Any]:
    """The training job's state change as EventBridge delivers it (the sample in events/, this job's facts)."""
    sample = json.loads((REPO / "events" / "sagemaker_training_job_state_change.json").read_text())
    sample["resources"] = [job["TrainingJobArn"]]
    sample["detail"].update({
        "TrainingJobName": job["TrainingJobName"], "TrainingJobArn": job["TrainingJobArn"],
        "HyperParameters": job["HyperParameters"], "TrainingJobStatus": "Completed",
        "ModelArtifacts": job["ModelArtifacts"], "ResourceConfig": job["ResourceConfig"],
    })
    return sample


def _sluice_event(detail_type: str, detail: dict[str, Any], *, event_id: str) -> dict[str, Any]:
    return {"version": "0", "id": event_id, "detail-type": detail_type, "source": "sluice",
            "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
            "detail": detail}


def _model_files(cloud: Any, version: int) -> set[str]:
    prefix = model_prefix(MODEL, version)
    listed = cloud.clients.s3.list_objects_v2(Bucket=cloud.settings.artifact_bucket, Prefix=prefix)
    return {item["Key"][len(prefix):] for item in listed.get("Contents", [])}


def _tar_names(body: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        return set(archive.getnames())


def test_a_state_change_for_a_version_never_claimed_is_refused_not_retried(stack: Any) -> None:
    # GIVEN a training job's end naming version 7 of breast-cancer, which this deployment never claimed
    cloud = stack('backend = "sagemaker"')
    event = json.loads((REPO / "events" / "sagemaker_training_job_state_change.json").read_text())
    event["detail"]["HyperParameters"]["version"] = "7"
    # WHEN train_model receives it
    result = cloud.invoke("train_model", event)
    # THEN it is refused in one line (and parked), not raised for a retry that cannot help; nothing was registered
    assert result["outcome"] == "error" and "breast-cancer v7 does not exist" in result["error"]
    assert _registry(cloud).list_versions(MODEL) == []
