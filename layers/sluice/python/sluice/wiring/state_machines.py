"""The state machines of a deployment, as data: infra/ builds them with CDK, the local runtime plays them.

One machine per stage scores large files in parts: a Distributed Map over the parts score_batch planned
(``$.parts`` of the execution's input), one ``score_part`` task per part at most ``$.job.max_concurrency`` at a
time (the model's ``[serving] batch_max_concurrency``), then one merge task. ``definition`` renders the Amazon
States Language document both worlds run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
# Errors a task is retried on: Lambda's transient ones, then anything but a refused payload (ValueError).
TRANSIENT_ERRORS = ("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                    "Lambda.TooManyRequestsException")
NOT_RETRIED = ("ValueError",)


@dataclass(frozen=True)
class Retry:
    """How often a failed task runs again (every task is idempotent, so a retry rewrites nothing)."""

    max_attempts: int = 3
    interval_s: int = 2
    backoff_rate: float = 2.0

    def render(self) -> list[dict[str, Any]]:
        backoff = {"IntervalSeconds": self.interval_s, "MaxAttempts": self.max_attempts,
                   "BackoffRate": self.backoff_rate}
        return [{"ErrorEquals": list(NOT_RETRIED), "MaxAttempts": 0},
                {"ErrorEquals": list(TRANSIENT_ERRORS), **backoff},
                {"ErrorEquals": ["States.ALL"], **backoff}]


@dataclass(frozen=True)
class PartsMachine:
    """A Distributed Map of ``worker`` over ``items_path``, then ``merge``: both the same function (``function``)
    told apart by the payload's ``action``."""

    kind: str
    function: str
    items_path: str = "$.parts"
    max_concurrency_path: str = "$.job.max_concurrency"
    map_state: str = "ScoreParts"
    part_state: str = "ScorePart"
    merge_state: str = "Merge"
    retry: Retry = Retry()
    description: str = ""

    def part_payload(self) -> dict[str, Any]:
        return {"action": "score", "job.$": "$.job", "part.$": "$.part"}

    def item_selector(self) -> dict[str, Any]:
        return {"job.$": "$.job", "part.$": "$$.Map.Item.Value"}

    def merge_payload(self) -> dict[str, Any]:
        return {"action": "merge", "job.$": "$.job"}

    def definition(self, function_arn: Callable[[str], str]) -> dict[str, Any]:
        """The Amazon States Language document, with ``function_arn(name)`` for the function's ARN."""
        arn = function_arn(self.function)
        return {
            "Comment": self.description,
            "StartAt": self.map_state,
            "States": {
                self.map_state: {
                    "Type": "Map",
                    "ItemsPath": self.items_path,
                    "ItemSelector": self.item_selector(),
                    "MaxConcurrencyPath": self.max_concurrency_path,
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": self.part_state,
                        "States": {self.part_state: _task(arn, self.part_payload(), self.retry)},
                    },
                    "ResultPath": None,
                    "Next": self.merge_state,
                },
                self.merge_state: _task(arn, self.merge_payload(), self.retry),
            },
        }


def _task(arn: str, payload: dict[str, Any], retry: Retry) -> dict[str, Any]:
    return {"Type": "Task", "Resource": LAMBDA_INVOKE, "Parameters": {"FunctionName": arn, "Payload": payload},
            "OutputPath": "$.Payload", "Retry": retry.render(), "End": True}


SCORE_PARTS = PartsMachine("score-parts", "score_part",
                           description="A file to score, in parts: score each part in parallel, then merge them")
STATE_MACHINES: dict[str, PartsMachine] = {SCORE_PARTS.kind: SCORE_PARTS}
"""Every state machine of a stage, by kind (named ``<prefix>-<kind>``); started by score_batch."""
