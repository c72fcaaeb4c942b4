"""The CreateTrainingJob request of a version (pure): names, channels, output, stopping condition.

SageMaker's contract (the training container): hyperparameters at ``/opt/ml/input/config/hyperparameters.json``
(every value a string), each input channel downloaded under ``/opt/ml/input/data/<channel>/`` (the objects under
its S3 prefix, the prefix stripped), whatever the job writes to ``/opt/ml/model/`` uploaded as
``<S3OutputPath>/<job name>/output/model.tar.gz``, a failure reason written to ``/opt/ml/output/failure``.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sluice.config.model import SageMakerTraining
from sluice.naming import ResourceNames
from sluice.storage import model_prefix

TRAIN_KIND = "train"
MAX_NAME = 63
"""SageMaker job names: 1-63 characters of ``[a-zA-Z0-9](-*[a-zA-Z0-9])*``, unique per account and region."""
MAX_CHANNELS = 20
ENTRYPOINT = ("python3", "-m", "sluice.jobs.train")
"""The job's command in the ML image (whose WORKDIR is the Lambda task root holding ``sluice``)."""
OUTPUT_FOLDER = "sagemaker/"
"""Under the version's artifact prefix: where SageMaker uploads ``<job>/output/model.tar.gz``."""
ENV_JOB_IMAGE = "SLUICE_JOB_IMAGE"
ENV_JOB_ROLE_ARN = "SLUICE_JOB_ROLE_ARN"
"""The job role's ARN with ``{model}`` where the model's name goes (one role per model)."""


class JobSpecError(ValueError):
    """A training that cannot be expressed as a SageMaker job (e.g. more data versions than channels)."""


@dataclass(frozen=True)
class JobSettings:
    """Where the job's image and roles are (set by CDK on train_model; by the local runtime locally)."""

    image: str
    role_arn_template: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> JobSettings:
        env = os.environ if environ is None else environ
        image, role = env.get(ENV_JOB_IMAGE, ""), env.get(ENV_JOB_ROLE_ARN, "")
        if not image or "{model}" not in role:
            raise JobSpecError(f"training on SageMaker needs {ENV_JOB_IMAGE} and {ENV_JOB_ROLE_ARN} (with {{model}}) "
                               "in train_model's environment")
        return cls(image=image, role_arn_template=role)

    def role_arn(self, model: str) -> str:
        return self.role_arn_template.replace("{model}", model)


def job_name_prefix(prefix: str, kind: str = TRAIN_KIND) -> str:
    """Every job name of this deployment and kind starts so (the state-change rules filter on it)."""
    return ResourceNames(prefix).job_prefix(kind)


def training_job_name(prefix: str, model: str, version: int, claim_key: str) -> str:
    """Deterministic per claim: a duplicate delivery asks for the same name, and SageMaker refuses a second job."""
    digest = hashlib.sha256(f"{model}\0{version}\0{claim_key}".encode()).hexdigest()[:10]
    tail = f"-v{version}-{digest}"
    head = job_name_prefix(prefix) + model
    name = head[:MAX_NAME - len(tail)].rstrip("-") + tail
    return re.sub(r"-{2,}", "-", name)


def output_path(artifact_bucket: str, model: str, version: int) -> str:
    return f"s3://{artifact_bucket}/{model_prefix(model, version)}{OUTPUT_FOLDER}"


def training_job_request(*, name: str, model: str, version: int, data_keys: Sequence[str], data_bucket: str,
                         artifact_bucket: str, settings: JobSettings, job: SageMakerTraining,
                         hyperparameters: Mapping[str, Any], tags: Mapping[str, str]) -> dict[str, Any]:
    """The CreateTrainingJob parameters: one channel per accepted data version (its prefix), the version's
    artifact prefix as output, the model's job role, instance, volume, spot and run time from the config."""
    if not data_keys or len(data_keys) > MAX_CHANNELS:
        raise JobSpecError(f"a training job takes 1 to {MAX_CHANNELS} data versions (one channel each), "
                           f"got {len(data_keys)}")
    channels = [f"data{index}" for index in range(len(data_keys))]
    stopping = {"MaxRuntimeInSeconds": job.max_run_s}
    if job.spot:  # the wait for spot capacity counts too: at least the run time (CreateTrainingJob's rule)
        stopping["MaxWaitTimeInSeconds"] = job.max_run_s * 2
    texts = {key: value if isinstance(value, str) else json.dumps(value) for key, value in hyperparameters.items()}
    return {
        "TrainingJobName": name,
        "HyperParameters": {**texts, "model": model, "version": str(version), "data_keys": json.dumps(list(data_keys)),
                            "channels": json.dumps(channels)},
        "AlgorithmSpecification": {"TrainingImage": settings.image, "TrainingInputMode": "File",
                                   "ContainerEntrypoint": list(ENTRYPOINT)},
        "RoleArn": settings.role_arn(model),
        "InputDataConfig": [{
            "ChannelName": channel, "InputMode": "File", "CompressionType": "None",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3DataDistributionType": "FullyReplicated",
                                            "S3Uri": f"s3://{data_bucket}/{posixpath.dirname(key)}/"}},
        } for channel, key in zip(channels, data_keys, strict=True)],
        "OutputDataConfig": {"S3OutputPath": output_path(artifact_bucket, model, version)},
        "ResourceConfig": {"InstanceType": job.instance_type, "InstanceCount": 1, "VolumeSizeInGB": job.volume_gb},
        "StoppingCondition": stopping,
        "EnableManagedSpotTraining": job.spot,
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
    }
