"""score_batch: a file dropped under score/<model>/[v<N>/] → every row scored by that model version.

A file above its model's ``[serving] batch_split_above_mb`` is handed to the scoring state machine
($SLUICE_SCORING_STATE_MACHINE) to be scored in parts. Accepts S3 through EventBridge, classic S3 notifications,
and either wrapped in SQS or SNS (``sluice.handlers``).
"""

from __future__ import annotations

import os
from typing import Any

import boto3

from sluice.events.sources import OBJECT_CREATED, ObjectCreated
from sluice.handlers import trigger_handler
from sluice.scoring.jobs import STATE_MACHINE_ENV
from sluice.steps.context import StepContext
from sluice.steps.score import PartsTarget, score_file

step_context = StepContext.from_env()
state_machine = os.environ.get(STATE_MACHINE_ENV, "")
parts = PartsTarget(state_machine, boto3.client("stepfunctions")) if state_machine else None


def on_object_created(created: ObjectCreated) -> dict[str, Any]:
    if created.bucket != step_context.settings.data_bucket:
        return {"outcome": "ignored", "reason": f"bucket {created.bucket} is not the data bucket"}
    return score_file(step_context, created.key, etag=created.etag or "", parts=parts)


lambda_handler = trigger_handler("score", step_context.settings, {OBJECT_CREATED: on_object_created})
