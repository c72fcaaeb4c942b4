"""score_batch: a file dropped under score/<model>/[v<N>/] → every row scored by that model version.

Accepts S3 through EventBridge, classic S3 notifications, and either wrapped in SQS or SNS (``sluice.handlers``).
"""

from __future__ import annotations

from typing import Any

from sluice.events.sources import OBJECT_CREATED, ObjectCreated
from sluice.handlers import trigger_handler
from sluice.steps.context import StepContext
from sluice.steps.score import score_file

step_context = StepContext.from_env()


def on_object_created(created: ObjectCreated) -> dict[str, Any]:
    if created.bucket != step_context.settings.data_bucket:
        return {"outcome": "ignored", "reason": f"bucket {created.bucket} is not the data bucket"}
    return score_file(step_context, created.key, etag=created.etag or "")


lambda_handler = trigger_handler("score", step_context.settings, {OBJECT_CREATED: on_object_created})
