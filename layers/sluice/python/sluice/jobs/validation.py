"""The CreateProcessingJob request that validates one large drop (pure): name, input, output, arguments.

SageMaker Processing's contract (AWS: "How Amazon SageMaker Processing Runs Your Processing Container Image"):
each ProcessingInput is downloaded to its ``LocalPath`` under ``/opt/ml/processing/``; whatever the job writes to an
output's ``LocalPath`` is uploaded to its ``S3Uri`` when the job ends; the container's exit code decides Completed
or Failed, and the first 1 KB of ``/opt/ml/output/message`` becomes DescribeProcessingJob's ``ExitMessage``.

The drop's facts travel as ``ContainerArguments`` (the job reads its key and model from them; the completion reads
its etag and object version back from the state change, whose detail is DescribeProcessingJob's answer).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sluice.config.model import SageMakerTraining
from sluice.jobs.spec import ENV_JOB_IMAGE, MAX_NAME, JobSpecError, job_name_prefix
from sluice.storage.keys import validation_output_prefix

VALIDATE_KIND = "validate"
ENTRYPOINT = ("python3", "-m", "sluice.jobs.validate")
INPUT_NAME = "drop"
OUTPUT_NAME = "result"
INPUT_DIR = f"/opt/ml/processing/input/{INPUT_NAME}"
OUTPUT_DIR = f"/opt/ml/processing/output/{OUTPUT_NAME}"
VERDICT_FILE = "verdict.json"
DATA_FILE = "data.parquet"
ENV_VALIDATION_ROLE_ARN = "SLUICE_VALIDATION_ROLE_ARN"
"""The validation jobs' role (one per stage: reads incoming/, writes validation/)."""
ARGUMENTS = ("--model", "--bucket", "--key", "--etag", "--version-id", "--drop-id")


@dataclass(frozen=True)
class JobDrop:
    """The drop a validation job checks, as its ContainerArguments carry it."""

    model: str
    bucket: str
    key: str
    etag: str
    version_id: str
    drop_id: str

    def arguments(self) -> list[str]:
        values = (self.model, self.bucket, self.key, self.etag, self.version_id, self.drop_id)
        return [item for flag, value in zip(ARGUMENTS, values, strict=True) for item in (flag, value)]

    @classmethod
    def from_arguments(cls, arguments: Sequence[str]) -> JobDrop:
        """Read the drop back from ``arguments``; ValueError names what is missing."""
        pairs = dict(zip(arguments[::2], arguments[1::2], strict=False))
        missing = [flag for flag in ARGUMENTS if flag not in pairs]
        if missing:
            raise ValueError(f"the job's arguments name no {', '.join(missing)}")
        model, bucket, key, etag, version_id, drop_id = (pairs[flag] for flag in ARGUMENTS)
        return cls(model=model, bucket=bucket, key=key, etag=etag, version_id=version_id, drop_id=drop_id)


def validation_role_arn(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(image, role ARN) of the validation jobs, from validate_dataset's environment (set by CDK / the runtime)."""
    env = os.environ if environ is None else environ
    image, role = env.get(ENV_JOB_IMAGE, ""), env.get(ENV_VALIDATION_ROLE_ARN, "")
    if not image or not role:
        raise JobSpecError(f"validation on SageMaker needs {ENV_JOB_IMAGE} and {ENV_VALIDATION_ROLE_ARN} in "
                           "validate_dataset's environment")
    return image, role


def validation_job_name(prefix: str, drop: JobDrop) -> str:
    """Deterministic per drop (its id and object version): a duplicate delivery asks for the same name, and
    SageMaker refuses a second job of one name (ResourceInUse)."""
    digest = hashlib.sha256(f"{drop.model}\0{drop.drop_id}\0{drop.version_id}".encode()).hexdigest()[:12]
    tail = f"-{digest}"
    head = job_name_prefix(prefix, VALIDATE_KIND) + drop.model
    name = head[:MAX_NAME - len(tail)].rstrip("-") + tail
    return re.sub(r"-{2,}", "-", name)


def output_uri(bucket: str, model: str, name: str) -> str:
    return f"s3://{bucket}/{validation_output_prefix(model, name)}"


def validation_job_request(*, name: str, drop: JobDrop, image: str, role_arn: str, job: SageMakerTraining,
                           tags: Mapping[str, str]) -> dict[str, Any]:
    """The CreateProcessingJob parameters: the raw drop as the one input, the job's output folder under
    ``validation/<model>/<job>/`` of the data bucket, the ML image running ``sluice.jobs.validate``, the model's
    instance type, volume and run time (``[models.<m>.training.sagemaker]``)."""
    return {
        "ProcessingJobName": name,
        "ProcessingInputs": [{
            "InputName": INPUT_NAME,
            "S3Input": {"S3Uri": f"s3://{drop.bucket}/{drop.key}", "LocalPath": INPUT_DIR, "S3DataType": "S3Prefix",
                        "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"},
        }],
        "ProcessingOutputConfig": {"Outputs": [{
            "OutputName": OUTPUT_NAME,
            "S3Output": {"S3Uri": output_uri(drop.bucket, drop.model, name), "LocalPath": OUTPUT_DIR,
                         "S3UploadMode": "EndOfJob"},
        }]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": job.instance_type,
                                                  "VolumeSizeInGB": job.volume_gb}},
        "StoppingCondition": {"MaxRuntimeInSeconds": job.max_run_s},
        "AppSpecification": {"ImageUri": image, "ContainerEntrypoint": list(ENTRYPOINT),
                             "ContainerArguments": drop.arguments()},
        "RoleArn": role_arn,
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
    }


def local_file(key: str) -> str:
    """Where the job finds the drop: S3Prefix input of one object → its file name under the input folder."""
    return posixpath.basename(key)
