"""Function URL / API Gateway HTTP events in, JSON responses out."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from sluice.predict.bounds import MAX_BODY_BYTES, RequestRefused, load_bounded_json


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


def parse_http_event(event: Any) -> HttpRequest:
    """Read a Function URL / HTTP API (payload 2.0) or REST API (1.0) event; the body is bounded, not parsed."""
    if not isinstance(event, dict):
        raise HttpError(400, "the event is not an HTTP request")
    http = _mapping(_mapping(event.get("requestContext")).get("http"))
    method = _text(http.get("method") or event.get("httpMethod")).upper()
    path = _text(event.get("rawPath") or event.get("path"))
    if not method or not path:
        raise HttpError(400, "the event is not an HTTP request (no method or path)")
    body = _body(event.get("body"), encoded=event.get("isBase64Encoded") is True)
    if len(body) > MAX_BODY_BYTES:
        raise HttpError(413, f"the body exceeds {MAX_BODY_BYTES} bytes")
    return HttpRequest(method=method, path=path, body=body)


def parse_json_body(body: bytes) -> Any:
    """The body as JSON, within the request bounds (sluice.predict.bounds); refusals become ``HttpError``."""
    try:
        return load_bounded_json(body)
    except RequestRefused as refused:
        raise HttpError(refused.status, refused.message) from refused


def _body(raw: Any, *, encoded: bool) -> bytes:
    if raw is None:
        return b""
    if not isinstance(raw, str | bytes):
        raise HttpError(400, f"the body must be text, not {type(raw).__name__}")
    if len(raw) > MAX_BODY_BYTES * 4 // 3 + 4:  # refuse before decoding: base64 is 4/3 of the bytes it carries
        raise HttpError(413, f"the body exceeds {MAX_BODY_BYTES} bytes")
    if encoded:
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as error:
            raise HttpError(400, "the body is not valid base64") from error
    if isinstance(raw, bytes):
        return raw
    try:
        return raw.encode("utf-8")
    except UnicodeEncodeError as error:
        raise HttpError(400, f"the body is not valid Unicode (character {error.start})") from error


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def json_response(status: int, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(document, allow_nan=False, default=str),
    }
