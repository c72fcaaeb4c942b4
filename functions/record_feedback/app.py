"""record_feedback: labels dropped under feedback/<model>/ → live quality per version (metrics, LiveQualityMeasured).

Accepts S3 through EventBridge, classic S3 notifications, and either wrapped in SQS or SNS (``sluice.handlers``).
"""

from __future__ import annotations

from typing import Any

from sluice.events.sources import OBJECT_CREATED, ObjectCreated
from sluice.handlers import trigger_handler
from sluice.steps.context import StepContext
from sluice.steps.feedback import record_feedback

step_context = StepContext.from_env()


def on_object_created(created: ObjectCreated) -> dict[str, Any]:
    if created.bucket != step_context.settings.data_bucket:
        return {"outcome": "ignored", "reason": f"bucket {created.bucket} is not the data bucket"}
    return record_feedback(step_context, created.key, correlation_id=f"feedback-{created.etag or created.key}")


lambda_handler = trigger_handler("feedback", step_context.settings, {OBJECT_CREATED: on_object_created})
