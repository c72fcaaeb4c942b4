"""`sluice predict MODEL -i JSON`: POST instances to the model's live endpoint (SigV4-signed when it is on AWS)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer

from sluice.cli import render
from sluice.cli.errors import RefusedError, UsageError
from sluice.cli.signing import request_headers
from sluice.cli.target import ENV_ENDPOINT_URL, NoTargetError, resolve_target

TIMEOUT_S = 60


def instances_text(instances: str) -> str:
    """``--instances``: the JSON itself, or ``@file`` to read it from."""
    if not instances.startswith("@"):
        return instances
    path = Path(instances[1:])
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise UsageError(f"cannot read --instances file {path}: {reason}") from None


def request_body(text: str) -> bytes:
    """The V1 request: a JSON object as given, a list wrapped as ``{"instances": [...]}``."""
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"--instances is not valid JSON: {error}") from None
    return json.dumps(parsed if isinstance(parsed, dict) else {"instances": parsed}).encode()


def endpoint_url() -> str:
    """The running `sluice local`'s endpoint, else ``SLUICE_ENDPOINT_URL`` (a deployed model's Function URL: the
    other SLUICE_* variables are not needed to call it)."""
    try:
        url = resolve_target().http_url
    except NoTargetError:
        url = os.environ.get(ENV_ENDPOINT_URL)
        if not url:
            raise
    if not url:
        raise UsageError(f"no endpoint URL: start `sluice local` or set {ENV_ENDPOINT_URL}")
    return url


def predict_url(endpoint: str, model: str, verb: str = "predict") -> str:
    return f"{endpoint.rstrip('/')}/v1/models/{urllib.parse.quote(model, safe='')}:{verb}"


def _document(body: bytes) -> dict[str, Any]:
    """The answer as a JSON object (a non-JSON body, such as a proxy's error page, as its text)."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return {"error": body.decode("utf-8", "replace")[:500]}
    return document if isinstance(document, dict) else {"body": document}


def post(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON answer) of one predict request; :class:`RefusedError` when the endpoint cannot be reached."""
    headers = request_headers("POST", url, body, {"Content-Type": "application/json"})
    request = urllib.request.Request(url, method="POST", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status, _document(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _document(error.read())
    except (urllib.error.URLError, OSError) as error:
        raise RefusedError(f"cannot reach the endpoint at {url}: {getattr(error, 'reason', error)} "
                      "(is `sluice local` running, or SLUICE_ENDPOINT_URL right?)") from None


def predict(
    model: Annotated[str, typer.Argument(help="The model to ask.")],
    instances: Annotated[str, typer.Option("--instances", "-i",
                                           help='JSON list of feature objects, or @file.json.')],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Ask :explain: each feature's contribution too "
                                                            "(at most 100 instances).")] = False,
) -> None:
    """POST instances to /v1/models/<model>:predict (or :explain) on the live endpoint (SigV4-signed for an AWS
    Function URL; exit 1 when it answers 4xx/5xx or cannot be reached)."""
    from sluice.config import load_config

    endpoint = endpoint_url()
    load_config().model(model)  # an undeclared model is a usage error (sluice.cli.errors)
    verb = "explain" if explain else "predict"
    status, document = post(predict_url(endpoint, model, verb), request_body(instances_text(instances)))
    if as_json:
        render.print_json({"status": status, **document})
    else:
        render.console.print(f"HTTP {status}")
        render.console.print_json(data=document)
    if status >= 400:
        raise typer.Exit(1)
