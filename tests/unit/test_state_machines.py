"""The scoring state machine as data (sluice.wiring.state_machines) and the local player that runs it
(sluice.local.state_machines), pinned to the States Language (https://states-language.net/spec.html)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from sluice.local.state_machines import ExecutionPlayer, TaskFailedError, UnsupportedStateError
from sluice.wiring.state_machines import SCORE_PARTS, STATE_MACHINES

ARN = "arn:aws:lambda:us-east-1:123456789012:function:sluice-score-part"


def definition() -> dict[str, Any]:
    return SCORE_PARTS.definition(lambda function: ARN if function == "score_part" else "unknown")


def test_the_scoring_machine_is_a_distributed_map_over_the_parts_then_a_merge():
    machine = definition()
    scored = machine["States"][machine["StartAt"]]
    assert scored["Type"] == "Map" and scored["ItemsPath"] == "$.parts"
    assert scored["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert scored["MaxConcurrencyPath"] == "$.job.max_concurrency" and scored["ResultPath"] is None
    merge = machine["States"][scored["Next"]]
    assert merge["Parameters"] == {"FunctionName": ARN, "Payload": {"action": "merge", "job.$": "$.job"}}
    assert set(STATE_MACHINES) == {"score-parts"}


class Recorder:
    """A stand-in for Lambda: records payloads and how many ran at once; fails as told."""

    def __init__(self, failures: dict[int, list[Exception]] | None = None) -> None:
        self.payloads: list[Any] = []
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()
        self._failures = failures or {}

    def __call__(self, function: str, payload: Any) -> Any:
        assert function == ARN
        with self._lock:
            self.payloads.append(payload)
            self.running += 1
            self.most = max(self.most, self.running)
            failing = self._failures.get(payload.get("part", {}).get("index", -1), [])
            error = failing.pop(0) if failing else None
        try:
            if error is not None:
                raise error
            threading.Event().wait(0.01)  # overlap the workers; no verdict depends on how long
            return {"outcome": "scored", "part": payload.get("part", {}).get("index")}
        finally:
            with self._lock:
                self.running -= 1


def test_each_part_is_scored_at_most_max_concurrency_at_a_time_then_merged_once():
    # GIVEN an execution of 9 parts with MaxConcurrency 2 (from the job)
    recorder = Recorder()
    document = {"job": {"max_concurrency": 2, "model": "m"}, "parts": [{"index": index} for index in range(9)]}
    # WHEN the player runs it
    output = ExecutionPlayer(recorder).play(definition(), document)
    # THEN every part is scored once with the job, never more than 2 at once, and the merge runs last
    scored = [payload for payload in recorder.payloads if payload["action"] == "score"]
    assert sorted(payload["part"]["index"] for payload in scored) == list(range(9))
    assert all(payload["job"] == document["job"] for payload in scored)
    assert recorder.most <= 2
    assert recorder.payloads[-1] == {"action": "merge", "job": document["job"]}
    assert output == {"outcome": "scored", "part": None}


def test_a_failed_part_is_retried_but_a_refused_payload_is_not():
    document = {"job": {"max_concurrency": 1}, "parts": [{"index": 0}, {"index": 1}]}
    retried = Recorder({1: [OSError("throttled"), OSError("again")]})
    ExecutionPlayer(retried).play(definition(), document)
    assert [payload["part"]["index"] for payload in retried.payloads if payload["action"] == "score"] == [0, 1, 1, 1]
    refused = Recorder({1: [ValueError("not a part")]})
    with pytest.raises(TaskFailedError) as failed:
        ExecutionPlayer(refused).play(definition(), document)
    assert failed.value.error == "ValueError"
    assert not any(payload["action"] == "merge" for payload in refused.payloads)


def test_a_state_the_player_does_not_run_is_refused_before_anything_runs():
    machine = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 1, "End": True}}}
    with pytest.raises(UnsupportedStateError):
        ExecutionPlayer(Recorder()).play(machine, {})
