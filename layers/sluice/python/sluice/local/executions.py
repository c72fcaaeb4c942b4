"""The executions moto records, each played once by the local runtime (``state_machines.ExecutionPlayer``).

A duplicate StartExecution (same name, same input) returns the running execution's ARN, as on AWS, so it is
played once. moto keeps every execution RUNNING (it has no API to close one as AWS would): what the runtime
played is ``played`` here and in its timeline. An execution whose play fails is stopped (moto's ABORTED stands for
AWS's FAILED: both end without a result), so what reads its status sees that it ended.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sluice.local.state_machines import ExecutionPlayer

CAUSE_MAX = 32768
"""StopExecution's cause holds at most 32,768 characters."""


class Executions:
    """Finds executions started on the stage's state machines and plays each once with ``player``."""

    def __init__(self, stepfunctions: Any, state_machines: dict[str, str], player: ExecutionPlayer,
                 on_played: Callable[[str, Any, str | None], None]) -> None:
        self._client = stepfunctions
        self._machines = state_machines
        self._player = player
        self._on_played = on_played
        self.played: dict[str, Any] = {}

    def play_new(self) -> int:
        """Play every execution not played yet; how many were played."""
        played = 0
        for arn in self._machines.values():
            definition: dict[str, Any] | None = None
            pages = self._client.get_paginator("list_executions").paginate(stateMachineArn=arn,
                                                                            statusFilter="RUNNING")
            for execution in (item for page in pages for item in page["executions"]):
                execution_arn = execution["executionArn"]
                if execution_arn in self.played:
                    continue
                if definition is None:
                    definition = json.loads(self._client.describe_state_machine(stateMachineArn=arn)["definition"])
                document = json.loads(self._client.describe_execution(executionArn=execution_arn)["input"])
                self.played[execution_arn] = None
                try:
                    self.played[execution_arn] = self._player.play(definition, document)
                except Exception as error:  # the execution fails: recorded, and no longer RUNNING
                    self._client.stop_execution(executionArn=execution_arn, error=type(error).__name__,
                                                cause=str(error)[:CAUSE_MAX])
                    self._on_played(execution_arn, None, f"{type(error).__name__}: {error}")
                else:
                    self._on_played(execution_arn, self.played[execution_arn], None)
                played += 1
        return played
