"""The validation processing job, pure: its name per drop, its request, the drop read back from its arguments, the
setting that chooses it, and the state change parsed at the edge."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sluice.config import ConfigError, load_config
from sluice.config.model import DataSettings, SageMakerTraining
from sluice.events.sources import ProcessingJobChanged, parse
from sluice.jobs.validation import JobDrop, validation_job_name, validation_job_request
from tests.conftest import CONFIG, REPO

DROP = JobDrop(model="breast-cancer", bucket="sluice-data", key="incoming/breast-cancer/2026/big.csv",
               etag="abc", version_id="v1", drop_id="big-0123456789ab")


def test_the_job_name_is_the_drops_valid_and_within_sagemakers_limit() -> None:
    # GIVEN one drop, the same drop again, another version of the object, and a model name of 60 characters
    long = JobDrop(**{**DROP.__dict__, "model": "m" * 60})
    names = [validation_job_name("sluice", DROP), validation_job_name("sluice", DROP),
             validation_job_name("sluice", JobDrop(**{**DROP.__dict__, "version_id": "v2"})),
             validation_job_name("sluice", long)]
    # THEN a redelivery asks for the same name, a re-upload for another; every name is a valid SageMaker job name
    assert names[0] == names[1] != names[2]
    assert names[0].startswith("sluice-validate-breast-cancer-")
    assert all(len(name) <= 63 and re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", name) for name in names)


def test_the_request_reads_the_raw_drop_and_writes_under_validation() -> None:
    request = validation_job_request(name="sluice-validate-breast-cancer-x", drop=DROP, image="img", role_arn="role",
                                     job=SageMakerTraining(instance_type="ml.m5.xlarge", volume_gb=50, max_run_s=900),
                                     tags={"sluice:model": "breast-cancer"})
    (given,) = request["ProcessingInputs"]
    assert given["S3Input"]["S3Uri"] == "s3://sluice-data/incoming/breast-cancer/2026/big.csv"
    (output,) = request["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"] == "s3://sluice-data/validation/breast-cancer/sluice-validate-breast-cancer-x/"
    assert request["ProcessingResources"]["ClusterConfig"] == {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                                               "VolumeSizeInGB": 50}
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 900}
    # AND the drop travels in the arguments and reads back whole
    assert JobDrop.from_arguments(request["AppSpecification"]["ContainerArguments"]) == DROP


def test_arguments_without_the_drop_are_refused_in_words() -> None:
    with pytest.raises(ValueError, match="--key"):
        JobDrop.from_arguments(["--model", "breast-cancer"])


def test_the_threshold_is_off_by_default_and_strict(tmp_path: Path) -> None:
    # GIVEN the default, a threshold of 1 MB
    assert not DataSettings().validated_by_job(10**12)
    one_mb = DataSettings(processing_job_above_mb=1.0)
    # THEN only drops larger than it go to a job
    assert one_mb.validated_by_job(1024 * 1024 + 1) and not one_mb.validated_by_job(1024 * 1024)
    # AND a threshold that is not a positive number is refused
    text = CONFIG.read_text().replace("[models.breast-cancer.data]\n",
                                      "[models.breast-cancer.data]\nprocessing_job_above_mb = 0\n", 1)
    (tmp_path / "sluice.toml").write_text(text)
    with pytest.raises(ConfigError, match="processing_job_above_mb"):
        load_config(tmp_path / "sluice.toml")


def test_the_sample_state_change_parses_into_the_job_and_its_drop() -> None:
    event = json.loads((REPO / "events" / "sagemaker_processing_job_state_change.json").read_text())
    (changed,) = parse(event, request_id="r")
    assert isinstance(changed, ProcessingJobChanged)
    assert changed.status == "Completed" and changed.job_name.startswith("sluice-validate-breast-cancer-")
    assert changed.outputs["result"].startswith("s3://sluice-data/validation/breast-cancer/")
    assert JobDrop.from_arguments(changed.arguments).key == "incoming/breast-cancer/breast_cancer.csv"
    # AND a second event of the same final status is the same change
    later = {**event, "id": "another", "detail": {**event["detail"], "LastModifiedTime": 1768473999000}}
    (again,) = parse(later, request_id="r")
    assert isinstance(again, ProcessingJobChanged) and again.idempotency_key == changed.idempotency_key
