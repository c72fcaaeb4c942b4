"""Function URL / API Gateway HTTP events in, JSON responses out."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

MAX_BODY_BYTES = 6 * 1024 * 1024


class HttpError(Exception):
    """A request the endpoint refuses, with its status code and a message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    body: bytes


def parse_http_event(event: dict[str, Any]) -> HttpRequest:
    """Read a Function URL / HTTP API (payload 2.0) or REST API (1.0) event."""
    if not isinstance(event, dict):
        raise HttpError(400, "the event is not an HTTP request")
    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method") or event.get("httpMethod") or "").upper()
    path = str(event.get("rawPath") or event.get("path") or "")
    if not method or not path:
        raise HttpError(400, "the event is not an HTTP request (no method or path)")
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as error:
            raise HttpError(400, "the body is not valid base64") from error
    else:
        body = raw.encode() if isinstance(raw, str) else bytes(raw)
    if len(body) > MAX_BODY_BYTES:
        raise HttpError(413, f"the body exceeds {MAX_BODY_BYTES} bytes")
    return HttpRequest(method=method, path=path, body=body)


def parse_json_body(body: bytes) -> Any:
    if not body:
        raise HttpError(400, 'the body is empty; send {"instances": [...]}')
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise HttpError(400, f"the body is not valid JSON: {error}") from error


def json_response(status: int, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(document, allow_nan=False, default=str),
    }
