"""score_part: one task of the scoring state machine (a large file scored in parts; steps/score_parts.py).

Invoked by Step Functions (LambdaInvoke, the payload as the event): ``{"action": "score", "job": ..., "part": ...}``
from the Distributed Map's item processor, once per part, and ``{"action": "merge", "job": ...}`` after it.
A payload of another shape raises ``ValueError``, which the state machine does not retry.
"""

from __future__ import annotations

from typing import Any

from sluice.observability import logger
from sluice.scoring.jobs import ScoringJob
from sluice.scoring.parts import Part
from sluice.steps.context import StepContext
from sluice.steps.score_parts import merge_parts, score_part

step_context = StepContext.from_env()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise ValueError(f"score_part expects a task payload, got {type(event).__name__}")
    action = event.get("action")
    job = ScoringJob.from_dict(event.get("job"))
    if action == "score":
        result = score_part(step_context, job, Part.from_dict(event.get("part")))
    elif action == "merge":
        result = merge_parts(step_context, job)
    else:
        raise ValueError(f"score_part: unknown action {action!r} (score or merge)")
    logger.info("score_part finished", extra={"result": result})
    return result
