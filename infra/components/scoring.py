"""The state machines of the stage, built from sluice.wiring.state_machines (the same definition the local
runtime plays): a Distributed Map of Lambda tasks over a large file's parts, then the merge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from sluice.naming import ResourceNames
from sluice.wiring.state_machines import NOT_RETRIED, STATE_MACHINES, TRANSIENT_ERRORS, PartsMachine, Retry


def json_paths(template: Mapping[str, Any]) -> dict[str, Any]:
    """A payload of the wiring (``"key.$": "$.path"``) as CDK spells it (``"key": JsonPath.object_at(...)``)."""
    return {key[:-2] if key.endswith(".$") else key: sfn.JsonPath.object_at(value) if key.endswith(".$") else value
            for key, value in template.items()}


class StateMachines(Construct):
    """One state machine per entry of STATE_MACHINES (``<prefix>-<kind>``), logged and traced; ``by_kind``."""

    def __init__(self, scope: Construct, construct_id: str, *, names: ResourceNames,
                 functions: Mapping[str, lambda_.IFunction], log_retention: logs.RetentionDays,
                 removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        self.by_kind: dict[str, sfn.StateMachine] = {}
        for kind, spec in STATE_MACHINES.items():
            log_group = logs.LogGroup(self, f"{kind}-logs", log_group_name=f"/aws/vendedlogs/states/"
                                      f"{names.state_machine(kind)}", retention=log_retention,
                                      removal_policy=removal_policy)
            self.by_kind[kind] = sfn.StateMachine(
                self, kind, state_machine_name=names.state_machine(kind), comment=spec.description,
                definition_body=sfn.DefinitionBody.from_chainable(self._chain(spec, functions[spec.function])),
                state_machine_type=sfn.StateMachineType.STANDARD, tracing_enabled=True,
                logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            )

    def _chain(self, spec: PartsMachine, function: lambda_.IFunction) -> sfn.IChainable:
        parts = sfn.DistributedMap(
            self, f"{spec.kind}-{spec.map_state}", state_name=spec.map_state, items_path=spec.items_path,
            item_selector=json_paths(spec.item_selector()), max_concurrency_path=spec.max_concurrency_path,
            map_execution_type=sfn.StateMachineType.STANDARD, result_path=sfn.JsonPath.DISCARD)
        parts.item_processor(self._task(spec, spec.part_state, function, spec.part_payload()))
        return parts.next(self._task(spec, spec.merge_state, function, spec.merge_payload()))

    def _task(self, spec: PartsMachine, state: str, function: lambda_.IFunction,
              payload: Mapping[str, Any]) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(self, f"{spec.kind}-{state}", state_name=state, lambda_function=function,
                                  payload=sfn.TaskInput.from_object(json_paths(payload)), output_path="$.Payload",
                                  retry_on_service_exceptions=False)
        _retry(task, spec.retry)
        return task


def _retry(task: tasks.LambdaInvoke, retry: Retry) -> None:
    task.add_retry(errors=list(NOT_RETRIED), max_attempts=0)
    for errors in (list(TRANSIENT_ERRORS), [sfn.Errors.ALL]):
        task.add_retry(errors=errors, interval=Duration.seconds(retry.interval_s), max_attempts=retry.max_attempts,
                       backoff_rate=retry.backoff_rate)
