"""`sluice invoke FUNCTION --event FILE`: run one function on an event file against a running `sluice local`.

Every function, by its wiring name (``validate_dataset``) or its deployed name (``sluice-validate-dataset``,
``sluice-predict-<model>``). ``predict`` takes a Function URL, API Gateway REST or HTTP API event and is answered
by the endpoint as a client would be (alias ``live`` and its weights). The stack is found by its state (the working
directory upwards, else the latest started) or named with ``--stack``; ``--logs`` shows the handler's log lines; a
response replayed by idempotency says so, and ``--fresh`` runs the handler without idempotency instead.
Exit status: 0 acted on, 1 refused or failed, 3 ignored (the function does not act on this event).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from sluice.cli import render
from sluice.cli.errors import UsageError
from sluice.cli.target import resolve_target
from sluice.local.host import environment
from sluice.naming import ResourceNames

ENV_LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"
ENV_IDEMPOTENCY_DISABLED = "POWERTOOLS_IDEMPOTENCY_DISABLED"


class InvokeError(ValueError):
    """The function or the event cannot be invoked as asked."""


@dataclass(frozen=True)
class HttpRequest:
    """What an HTTP event asks of the endpoint."""

    method: str
    path: str
    body: bytes
    headers: dict[str, str]


def resolve_function(name: str, names: ResourceNames, models: tuple[str, ...]) -> tuple[str, str | None]:
    """(wiring function, model) for a wiring name or a deployed name; the model only for ``<prefix>-predict-<m>``."""
    from sluice.wiring import FUNCTIONS

    candidate = name[len(names.prefix) + 1:] if name.startswith(f"{names.prefix}-") else name
    if candidate.startswith("predict-") and candidate[len("predict-"):] in models:
        return "predict", candidate[len("predict-"):]
    function = candidate.replace("-", "_")
    if function in FUNCTIONS:
        return function, None
    deployed = [f"{names.prefix}-{known.replace('_', '-')}" for known in FUNCTIONS if known != "predict"]
    known_names = [*FUNCTIONS, *deployed, *(names.predict_function(model) for model in models)]
    raise InvokeError(f"unknown function {name!r}; one of {', '.join(known_names)}")


def http_request(event: Any) -> HttpRequest:
    """The request a Function URL (2.0), API Gateway HTTP API (2.0) or REST API (1.0) event carries."""
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, APIGatewayProxyEventV2

    if not isinstance(event, dict):
        raise InvokeError("a predict event is a JSON object (Function URL, API Gateway REST or HTTP API)")
    proxy: APIGatewayProxyEvent | APIGatewayProxyEventV2
    if event.get("version") == "2.0" and "requestContext" in event:
        proxy = APIGatewayProxyEventV2(event)  # Function URLs use the HTTP API's payload 2.0
    elif "httpMethod" in event:
        proxy = APIGatewayProxyEvent(event)
    else:
        raise InvokeError("not an HTTP event: expected a Function URL or API Gateway HTTP API event (version 2.0) "
                          "or an API Gateway REST event (httpMethod)")
    try:
        body = proxy.decoded_body or ""
        return HttpRequest(proxy.http_method, proxy.path, body.encode(), dict(proxy.headers or {}))
    except (KeyError, TypeError, ValueError) as error:
        raise InvokeError(f"the HTTP event is incomplete: {error}") from error


def event_document(path: Path) -> Any:
    """The event in the JSON file at ``path`` (:class:`InvokeError` if it is not UTF-8 JSON)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise InvokeError(f"{path} is not JSON: {error}") from None


def model_in_path(path: str) -> str | None:
    """The model a V1 predict path names: ``/v1/models/<model>:predict``."""
    parts = path.strip("/").split("/")
    if len(parts) != 3 or parts[:2] != ["v1", "models"] or ":" not in parts[2]:
        return None
    return parts[2].split(":", 1)[0] or None


@contextlib.contextmanager
def _handler_environment(*, logs: bool, fresh: bool) -> Iterator[io.StringIO]:
    """The handler's output and log records captured (INFO and above with ``logs``); idempotency off with
    ``fresh``. Nothing the handler prints reaches the command's own output."""
    overrides = {ENV_LOG_LEVEL: "INFO" if logs else "ERROR", **({ENV_IDEMPOTENCY_DISABLED: "true"} if fresh else {})}
    output = io.StringIO()
    with environment(overrides), contextlib.redirect_stdout(output):
        from sluice.observability import logger  # created here at the latest, so on this output

        logger.setLevel(os.environ[ENV_LOG_LEVEL])
        previous = logger.registered_handler.setStream(output)  # type: ignore[attr-defined]
        try:
            yield output
        finally:
            if previous is not None:
                logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]


def log_lines(output: str) -> list[str]:
    """The handler's log records as ``LEVEL message`` lines (other output, such as EMF, is left out)."""
    lines = []
    for raw in output.splitlines():
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if isinstance(record, dict) and "level" in record and "message" in record:
            lines.append(f"{record['level']} {record['message']}")
    return lines


def invoke(
    function: Annotated[str, typer.Argument(help="validate_dataset, train_model, predict, ... or a deployed name.")],
    event: Annotated[Path, typer.Option("--event", "-e", exists=True, dir_okay=False, help="Event JSON file.")],
    stack: Annotated[Path | None, typer.Option("--stack", help="The `sluice local` to use: its directory or "
                                                               "state file (default: found from here).")] = None,
    logs: Annotated[bool, typer.Option("--logs", help="Show the handler's log lines.")] = False,
    fresh: Annotated[bool, typer.Option("--fresh", help="Run the handler even if this event was handled "
                                                        "already (idempotency off for this run).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")] = False,
) -> None:
    """Run one function's handler on an event file against the running local stack (exit 1: refused or failed,
    3: ignored)."""
    from sluice.local import LocalCloud

    target = resolve_target(stack)
    if not target.is_local:
        raise UsageError("invoke runs handlers in-process against `sluice local`; start it first")
    cloud = LocalCloud(os.environ["SLUICE_CONFIG"], endpoint_url=target.aws_endpoint)
    try:
        name, model = resolve_function(function, target.settings.names, cloud.config.names)
        payload = event_document(event)
        request = http_request(payload) if name == "predict" else None
    except InvokeError as error:
        raise UsageError(str(error)) from None
    cloud.start(provision_resources=False)
    try:
        started = time.perf_counter()
        with _handler_environment(logs=logs, fresh=fresh) as output:
            from sluice import idempotency

            replays_before = len(idempotency.REPLAYED)
            result = _run(cloud, name, model, payload, request)
            replayed = len(idempotency.REPLAYED) > replays_before
        seconds = time.perf_counter() - started
    finally:
        cloud.stop()
    document = {"function": name, "result": result, "seconds": round(seconds, 3), "replayed": replayed,
                **({"logs": log_lines(output.getvalue())} if logs else {})}
    _show(document, as_json=as_json)


def _run(cloud: Any, name: str, model: str | None, payload: Any, request: HttpRequest | None) -> dict[str, Any]:
    if request is None:
        result: dict[str, Any] = cloud.invoke(name, payload)
        return result
    asked = model_in_path(request.path)
    if model is not None and asked != model:
        raise UsageError(f"the event asks {request.path}, not the endpoint of {model}")
    response = cloud.http(request.method, request.path, request.body, request.headers)
    return {"status": response.status, "body": response.body, "lambda_version": response.lambda_version}


EXIT_FAILED = 1
EXIT_IGNORED = 3


def exit_code(function: str, result: dict[str, Any]) -> int:
    """0 acted on; 1 refused or failed (an ``error`` outcome, failed SQS records, HTTP 4xx/5xx); 3 ignored."""
    if function == "predict":
        return EXIT_FAILED if int(result.get("status", 500)) >= 400 else 0
    if result.get("batchItemFailures"):
        return EXIT_FAILED
    outcomes = [item.get("outcome") for item in result.get("results", [result])]
    if "error" in outcomes:
        return EXIT_FAILED
    return EXIT_IGNORED if outcomes and all(outcome == "ignored" for outcome in outcomes) else 0


def _show(document: dict[str, Any], *, as_json: bool) -> None:
    code = exit_code(document["function"], document["result"])
    if as_json:
        render.print_json(document)
        raise typer.Exit(code)
    for line in document.get("logs", []):
        render.console.print(line, markup=False, highlight=False)
    render.console.print(f"{document['function']} finished in {document['seconds']:.2f}s")
    if document["replayed"]:
        render.console.print("replayed: this event was handled before; this is the stored response "
                             "(--fresh runs the handler again)")
    render.console.print_json(data=document["result"])
    if code == EXIT_IGNORED:
        render.console.print(f"[yellow]ignored[/yellow]: {document['function']} does not act on this event "
                             f"({document['result'].get('reason', '')})")
    raise typer.Exit(code)
