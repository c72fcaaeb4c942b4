"""validate_dataset: an object created under incoming/<model>/ → DatasetAccepted or DatasetRejected; a drop above
the model's ``[data] processing_job_above_mb`` starts a SageMaker processing job instead, whose "SageMaker
Processing Job State Change" becomes DatasetAccepted or DatasetRejected.

Accepts S3 through EventBridge, classic S3 notifications, and either wrapped in SQS or SNS (``sluice.handlers``).
"""

from __future__ import annotations

from typing import Any

from sluice.events.sources import OBJECT_CREATED, PROCESSING_JOB_STATE_CHANGE, ObjectCreated, ProcessingJobChanged
from sluice.handlers import trigger_handler
from sluice.steps.context import StepContext
from sluice.steps.validate import DroppedObject, validate_drop
from sluice.steps.validate_job import on_validation_job_changed

step_context = StepContext.from_env()


def on_object_created(created: ObjectCreated) -> dict[str, Any]:
    return validate_drop(step_context, DroppedObject(bucket=created.bucket, key=created.key, etag=created.etag,
                                                     size=created.size, version_id=created.version_id))


def on_validation_job(changed: ProcessingJobChanged) -> dict[str, Any]:
    return on_validation_job_changed(step_context, changed)


lambda_handler = trigger_handler("validate", step_context.settings, {
    OBJECT_CREATED: on_object_created, PROCESSING_JOB_STATE_CHANGE: on_validation_job})
