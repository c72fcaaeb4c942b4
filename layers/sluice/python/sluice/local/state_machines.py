"""Play a Step Functions execution the way AWS runs it: moto stores state machines and executions but runs no
Lambda task (without Docker), so the local runtime plays the stored definition.

The subset sluice's machines use (``sluice.wiring.state_machines``): Task states invoking Lambda
(``arn:aws:states:::lambda:invoke``: the result is ``{"Payload": ..., "StatusCode": 200}``), Map states (inline or
distributed) over ``ItemsPath`` with ``ItemSelector`` and ``MaxConcurrency``/``MaxConcurrencyPath``, Retry
(``ErrorEquals`` by error name, ``MaxAttempts``; intervals are not waited out), ``Parameters`` with ``.$`` paths,
``ResultPath`` (``null`` or ``$``) and ``OutputPath``, ``Next``/``End``. Anything else raises
``UnsupportedStateError``: a machine the player cannot run is never half played. (AWS States Language
specification: https://states-language.net/spec.html; Distributed Map: "Using Map state in Distributed mode" in
the Step Functions developer guide.)
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
DEFAULT_MAP_CONCURRENCY = 40  # MaxConcurrency 0 (or none) means "as many as possible"; a laptop has a bound


class UnsupportedStateError(ValueError):
    """The definition uses a state or field the local player does not run."""


class TaskFailedError(RuntimeError):
    """A task failed after its retries: ``error`` is the error name Step Functions would report."""

    def __init__(self, state: str, error: str, cause: str) -> None:
        super().__init__(f"{state} failed: {error}: {cause}")
        self.error = error
        self.cause = cause


Invoke = Callable[[str, Any], Any]
"""Run a function (by ARN) on a payload; on failure raise: the error's name is its ``error`` attribute when it
has one (a failure reported by a worker process), else its type's name (as Lambda names a Python error)."""
RunMany = Callable[[Callable[[Any], Any], list[Any], int], list[Any]]
"""Run a callable over items with at most N at once, results in item order."""


def threads(work: Callable[[Any], Any], items: list[Any], concurrency: int) -> list[Any]:
    """The default ``RunMany``: a thread per concurrent item."""
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(items) or 1))) as pool:
        return list(pool.map(work, items))


class ExecutionPlayer:
    """Runs one definition on one input; ``invoke`` runs Lambda tasks, ``run_many`` a Map's items."""

    def __init__(self, invoke: Invoke, run_many: RunMany = threads) -> None:
        self._invoke = invoke
        self._run_many = run_many

    def play(self, definition: dict[str, Any], document: Any) -> Any:
        return self._states(definition, document, {})

    def _states(self, machine: dict[str, Any], document: Any, context: dict[str, Any]) -> Any:
        states = machine["States"]
        name = machine["StartAt"]
        while True:
            state = states[name]
            kind = state.get("Type")
            if kind == "Task":
                result = self._task(name, state, document, context)
            elif kind == "Map":
                result = self._map(state, document)
            elif kind == "Pass":
                result = document
            else:
                raise UnsupportedStateError(f"state {name}: type {kind!r} is not played locally")
            document = _output(state, document, result)
            if state.get("End"):
                return document
            name = state["Next"]

    def _task(self, name: str, state: dict[str, Any], document: Any, context: dict[str, Any]) -> Any:
        if state.get("Resource") != LAMBDA_INVOKE:
            raise UnsupportedStateError(f"state {name}: resource {state.get('Resource')!r} is not played locally")
        parameters = resolve(state.get("Parameters", {}), document, context)
        attempts = 0
        while True:
            try:
                payload = self._invoke(parameters["FunctionName"], parameters.get("Payload"))
                return {"Payload": payload, "StatusCode": 200}
            except Exception as error:  # a task failure: retried as its Retry says
                error_name = str(getattr(error, "error", type(error).__name__))
                limit = _retries(state.get("Retry", []), error_name)
                if attempts >= limit:
                    raise TaskFailedError(name, error_name, str(error)) from error
                attempts += 1

    def _map(self, state: dict[str, Any], document: Any) -> Any:
        items = select(document, state.get("ItemsPath", "$"))
        if not isinstance(items, list):
            raise TaskFailedError("Map", "States.Runtime", f"ItemsPath {state.get('ItemsPath')} is not an array")
        concurrency = state.get("MaxConcurrency")
        if "MaxConcurrencyPath" in state:
            concurrency = select(document, state["MaxConcurrencyPath"])
        concurrency = int(concurrency or 0) or DEFAULT_MAP_CONCURRENCY
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor is None:
            raise UnsupportedStateError("a Map state without ItemProcessor")
        selector = state.get("ItemSelector")

        def one(indexed: tuple[int, Any]) -> Any:
            index, item = indexed
            context = {"Map": {"Item": {"Index": index, "Value": item}}}
            item_input = item if selector is None else resolve(selector, document, context)
            return self._states(processor, item_input, context)

        return self._run_many(one, list(enumerate(items)), concurrency)


def _retries(retriers: list[dict[str, Any]], error: str) -> int:
    """How many times a task failing with ``error`` runs again: the first retrier that names it (or States.ALL)."""
    for retrier in retriers:
        names = retrier.get("ErrorEquals", [])
        if error in names or "States.ALL" in names or ("States.TaskFailed" in names and error != "States.Timeout"):
            return int(retrier.get("MaxAttempts", 3))
    return 0


def _output(state: dict[str, Any], document: Any, result: Any) -> Any:
    if "ResultPath" in state and state["ResultPath"] is None:
        combined = document
    elif state.get("ResultPath", "$") == "$":
        combined = result
    else:
        raise UnsupportedStateError(f"ResultPath {state['ResultPath']!r} is not played locally")
    return select(combined, state.get("OutputPath", "$"))


def resolve(template: Any, document: Any, context: dict[str, Any]) -> Any:
    """``Parameters``/``ItemSelector``: keys ending in ``.$`` take the value at their path (``$$.`` the context)."""
    if isinstance(template, dict):
        resolved: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                resolved[key[:-2]] = select(context, value[1:]) if value.startswith("$$") else select(document, value)
            else:
                resolved[key] = resolve(value, document, context)
        return resolved
    if isinstance(template, list):
        return [resolve(value, document, context) for value in template]
    return template


def select(document: Any, path: str) -> Any:
    """A reference path (``$``, ``$.a.b``): the value it names."""
    if path == "$":
        return document
    if not path.startswith("$."):
        raise UnsupportedStateError(f"path {path!r} is not a reference path")
    value = document
    for field in path[2:].split("."):
        if not isinstance(value, dict) or field not in value:
            raise TaskFailedError("path", "States.Runtime", f"{path} is not in the input")
        value = value[field]
    return value
