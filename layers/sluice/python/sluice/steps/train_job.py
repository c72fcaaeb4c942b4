"""Training on SageMaker: train_model starts a version's training job, and turns the job's state change into
the same outcome the Lambda path has (a candidate and ModelTrained, or failed and TrainingFailed)."""

from __future__ import annotations

import io
import os
import tarfile
from typing import Any

from botocore.exceptions import ClientError

from sluice.artifacts import TRAINING_FILE
from sluice.config.model import ModelConfig
from sluice.events.sources import EventError, TrainingJobChanged
from sluice.jobs.spec import JobSettings, JobSpecError, job_name_prefix, training_job_name, training_job_request
from sluice.registry import ModelVersion, Status
from sluice.registry.errors import VersionNotFoundError
from sluice.steps.context import StepContext
from sluice.steps.trained import fail_training, register_trained
from sluice.storage import model_artifact_key
from sluice.training.backend import BackendChoice
from sluice.training.window import TrainingData
from sluice.wiring import FUNCTIONS

MAX_ARTIFACT_BYTES = 512 * 1024 * 1024
"""The most a job's model.tar.gz may unpack to in train_model (its /tmp and memory): a model, not data."""


def lambda_memory_mb() -> int:
    """train_model's memory: Lambda's own variable, else the wiring's size of the function."""
    value = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
    return int(value) if value.isdigit() else FUNCTIONS["train_model"].memory_mb


def start_training_job(ctx: StepContext, model: ModelConfig, claimed: ModelVersion, data: TrainingData,
                       choice: BackendChoice, *, correlation_id: str) -> dict[str, Any]:
    """CreateTrainingJob for the claimed version, once: the name is the claim's, and SageMaker answers a second
    request for it with ResourceInUse (a duplicate delivery then only reports the job)."""
    name = training_job_name(ctx.settings.prefix, model.name, claimed.version, str(claimed.lineage["claim_key"]))
    facts = {"job": name, "backend": "sagemaker", "model": model.name, "version": claimed.version,
             "data_version": data.data_version, "choice": choice.reason}
    try:
        request = training_job_request(
            name=name, model=model.name, version=claimed.version, data_keys=data.data_keys,
            data_bucket=ctx.settings.data_bucket, artifact_bucket=ctx.settings.artifact_bucket,
            settings=JobSettings.from_env(), job=model.training.sagemaker,
            hyperparameters={"data_version": data.data_version, "code_version": ctx.settings.code_version,
                             "data_versions": list(data.data_versions), "window": data.window,
                             "correlation_id": correlation_id},
            tags={"sluice:model": model.name, "sluice:version": str(claimed.version)})
    except JobSpecError as error:
        return {**fail_training(ctx, claimed, str(error), correlation_id=correlation_id), "backend": "sagemaker"}
    try:
        arn = ctx.sagemaker.create_training_job(**request)["TrainingJobArn"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUse":
            raise
        return {"outcome": "training", **facts, "already_started": True}
    ctx.registry.note(model.name, subject=f"v{claimed.version}", change="training job started",
                      reason=f"{name} on {model.training.sagemaker.instance_type}: {choice.reason}",
                      actor="train_model", correlation_id=correlation_id)
    return {"outcome": "training", **facts, "job_arn": arn}


def on_training_job_changed(ctx: StepContext, changed: TrainingJobChanged) -> dict[str, Any]:
    """Completed → the version's artifacts unpacked next to it, candidate, ModelTrained; Failed or Stopped →
    failed with the job's reason. Other statuses, or a version no longer training, are ignored (acted on once)."""
    if not changed.job_name.startswith(job_name_prefix(ctx.settings.prefix)):
        return {"outcome": "ignored", "reason": f"{changed.job_name} is not a training job of this deployment"}
    if changed.status not in ("Completed", "Failed", "Stopped"):
        return {"outcome": "ignored", "reason": f"{changed.job_name} is {changed.status}"}
    try:
        model, version = changed.hyperparameters["model"], int(changed.hyperparameters["version"])
        correlation_id = changed.hyperparameters["correlation_id"]
    except (KeyError, ValueError) as error:
        raise EventError(f"training job {changed.job_name} names no sluice model version ({error})") from error
    try:
        claimed = ctx.registry.get_version(model, version)
    except VersionNotFoundError as error:  # not retriable: the job names a version this deployment never claimed
        raise EventError(f"training job {changed.job_name}: {error}") from error
    if claimed.status is not Status.TRAINING:
        return {"outcome": "ignored", "reason": f"{claimed.label} is already {claimed.status.value}"}
    job = {"name": changed.job_name, "arn": changed.job_arn, "status": changed.status,
           "instance_type": changed.instance_type, "billable_s": changed.billable_s,
           "training_s": changed.training_s}
    if changed.status != "Completed":
        reason = changed.failure_reason or f"training job {changed.job_name} {changed.status.lower()} " \
                                           f"({changed.secondary_status or 'no reason given'})"
        return fail_training(ctx, claimed, reason, correlation_id=correlation_id, job=job)
    summary = unpack_artifacts(ctx, changed.model_artifacts, model, version)
    return register_trained(ctx, claimed, summary, correlation_id=correlation_id, job=job)


def unpack_artifacts(ctx: StepContext, s3_uri: str, model: str, version: int) -> dict[str, Any]:
    """Copy the files of the job's model.tar.gz to the version's prefix (the layout the Lambda path writes, which
    evaluation and serving read); returns training.json."""
    bucket, _, key = s3_uri.removeprefix("s3://").partition("/")
    if bucket != ctx.settings.artifact_bucket or not key:
        raise EventError(f"the job's artifacts {s3_uri!r} are not in {ctx.settings.artifact_bucket}")
    with tarfile.open(fileobj=io.BytesIO(ctx.artifacts.get_bytes(key)), mode="r:gz") as archive:
        members = [member for member in archive.getmembers() if member.isfile()]
        if sum(member.size for member in members) > MAX_ARTIFACT_BYTES:
            raise EventError(f"{s3_uri} unpacks to more than {MAX_ARTIFACT_BYTES} bytes")
        for member in members:
            name = member.name.removeprefix("./")
            if name.startswith("/") or ".." in name.split("/"):
                raise EventError(f"{s3_uri} holds an unsafe path {member.name!r}")
            extracted = archive.extractfile(member)
            assert extracted is not None  # a regular file
            ctx.artifacts.put_bytes(model_artifact_key(model, version, name), extracted.read())
    summary: dict[str, Any] = ctx.artifacts.get_json(model_artifact_key(model, version, TRAINING_FILE))
    return summary
