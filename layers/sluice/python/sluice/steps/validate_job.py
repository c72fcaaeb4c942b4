"""Validation on SageMaker: validate_dataset hands a large drop to a processing job, and turns the job's state
change into the same outcome the Lambda path has (the accepted data version and DatasetAccepted, or the quarantine
and DatasetRejected).

The job writes its verdict and normalized data under ``validation/<model>/<job>/`` of the data bucket; this module
(in validate_dataset) moves them on: the data is copied server-side to ``accepted/<model>/<version>/`` with the same
manifest and registry record the Lambda path writes, or the raw drop is quarantined with the job's report. The job
itself writes nowhere else (its role: read incoming/, write validation/).
"""

from __future__ import annotations

import posixpath
from typing import Any

from botocore.exceptions import ClientError

from sluice.config.model import ModelConfig
from sluice.events.sources import EventError, ProcessingJobChanged
from sluice.jobs.spec import JobSpecError, job_name_prefix
from sluice.jobs.validation import (
    DATA_FILE,
    OUTPUT_NAME,
    VALIDATE_KIND,
    VERDICT_FILE,
    JobDrop,
    validation_job_name,
    validation_job_request,
    validation_role_arn,
)
from sluice.steps.context import StepContext
from sluice.steps.dataset_outcome import DroppedObject, accept_dataset, failure_report, quarantine
from sluice.storage import parse_incoming_key


def start_validation_job(ctx: StepContext, model: ModelConfig, dropped: DroppedObject,
                         correlation_id: str) -> dict[str, Any]:
    """CreateProcessingJob for the drop, once: the name is the drop's, and SageMaker answers a second request for
    it with ResourceInUse (a duplicate delivery then only reports the job)."""
    drop = JobDrop(model=model.name, bucket=dropped.bucket, key=dropped.key, etag=dropped.etag,
                   version_id=dropped.version_id, drop_id=correlation_id)
    name = validation_job_name(ctx.settings.prefix, drop)
    facts = {"outcome": "validating", "model": model.name, "job": name, "size": dropped.size,
             "correlation_id": correlation_id}
    parsed = parse_incoming_key(dropped.key)
    assert parsed is not None  # validate_drop hands over only keys under incoming/<model>/
    try:
        image, role = validation_role_arn()
    except JobSpecError as error:  # a deployment fault, not the file's: reported like a crash of validation
        message = f"{error}; the file is kept unchanged and can be dropped again"
        return quarantine(ctx, dropped, parsed, correlation_id, failure_report("validation_error", message))
    request = validation_job_request(name=name, drop=drop, image=image, role_arn=role,
                                     job=model.training.sagemaker, tags={"sluice:model": model.name})
    try:
        arn = ctx.sagemaker.create_processing_job(**request)["ProcessingJobArn"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUse":
            raise
        return {**facts, "already_started": True}
    return {**facts, "job_arn": arn}


def on_validation_job_changed(ctx: StepContext, changed: ProcessingJobChanged) -> dict[str, Any]:
    """Completed → the job's verdict settles the drop as the Lambda path would; Failed or Stopped → the drop is
    quarantined with the job's reason (the raw drop stays in incoming/). Other statuses are ignored. Acting once is
    the edge's (a job reaches its final status once: ``ProcessingJobChanged.idempotency_key``); a rerun after a
    crash settles again, as the Lambda path's does (the manifest is written last, the registry write is
    conditional)."""
    if not changed.job_name.startswith(job_name_prefix(ctx.settings.prefix, VALIDATE_KIND)):
        return {"outcome": "ignored", "reason": f"{changed.job_name} is not a validation job of this deployment"}
    if changed.status not in ("Completed", "Failed", "Stopped"):
        return {"outcome": "ignored", "reason": f"{changed.job_name} is {changed.status}"}
    try:
        job_drop = JobDrop.from_arguments(changed.arguments)
    except ValueError as error:
        raise EventError(f"processing job {changed.job_name}: {error}") from error
    drop = parse_incoming_key(job_drop.key)
    if job_drop.bucket != ctx.data.bucket or drop is None or drop.model != job_drop.model:
        raise EventError(f"processing job {changed.job_name} names no drop of this deployment "
                         f"(s3://{job_drop.bucket}/{job_drop.key})")
    dropped = DroppedObject(bucket=job_drop.bucket, key=job_drop.key, etag=job_drop.etag, size=0,
                            version_id=job_drop.version_id)
    correlation_id = job_drop.drop_id
    job = {"job": changed.job_name, "job_status": changed.status}
    if changed.status != "Completed":
        reason = changed.exit_message or changed.failure_reason or f"the job was {changed.status.lower()}"
        message = (f"validation job {changed.job_name} {changed.status.lower()}: {reason}; the file is kept "
                   "unchanged and can be dropped again")
        return {**quarantine(ctx, dropped, drop, correlation_id, failure_report("validation_job_failed", message)),
                **job}
    output = _output_prefix(ctx, changed)
    if not ctx.data.exists(output + VERDICT_FILE):  # not the job's contract: never judged, so not accepted
        message = (f"validation job {changed.job_name} completed without {VERDICT_FILE} in {output}; the file is "
                   "kept unchanged and can be dropped again")
        return {**quarantine(ctx, dropped, drop, correlation_id, failure_report("validation_job_failed", message)),
                **job}
    verdict: dict[str, Any] = ctx.data.get_json(output + VERDICT_FILE)
    if not verdict.get("accepted") or not verdict.get("data_version"):
        return {**quarantine(ctx, dropped, drop, correlation_id, verdict), **job}
    staged = output + DATA_FILE
    return {**accept_dataset(ctx, dropped, drop, correlation_id, verdict,
                             lambda key: ctx.data.copy_from(ctx.data.bucket, staged, key)), **job}


def _output_prefix(ctx: StepContext, changed: ProcessingJobChanged) -> str:
    """The key prefix of the job's output in the data bucket (from the state change's ProcessingOutputConfig)."""
    uri = changed.outputs.get(OUTPUT_NAME, "")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if bucket != ctx.data.bucket or not key:
        raise EventError(f"processing job {changed.job_name} wrote its output to {uri!r}, not the data bucket")
    return posixpath.join(key, "")
