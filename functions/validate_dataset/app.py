"""validate_dataset: an object created under incoming/<model>/ → DatasetAccepted or DatasetRejected.

Accepts S3 through EventBridge, classic S3 notifications, and either wrapped in SQS or SNS (``sluice.handlers``).
"""

from __future__ import annotations

from typing import Any

from sluice.events.sources import OBJECT_CREATED, ObjectCreated
from sluice.handlers import trigger_handler
from sluice.steps.context import StepContext
from sluice.steps.validate import DroppedObject, validate_drop

step_context = StepContext.from_env()


def on_object_created(created: ObjectCreated) -> dict[str, Any]:
    return validate_drop(step_context, DroppedObject(bucket=created.bucket, key=created.key, etag=created.etag,
                                                     size=created.size, version_id=created.version_id))


lambda_handler = trigger_handler("validate", step_context.settings, {OBJECT_CREATED: on_object_created})
