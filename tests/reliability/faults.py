"""Fault injection at every AWS call a handler makes, through botocore's own event hooks.

Two handlers are installed on every botocore session created while the injector is active (as moto
installs its own): ``before-call`` numbers the logical API calls of the running handler invocation,
``before-send`` fails chosen HTTP attempts *before* moto executes them (a throttled request, a 500 or a
connect timeout never reaches the service). botocore's retry logic sees real responses and errors, so a
transient fault is retried by botocore itself and a persistent one exhausts its attempts and raises.
"""

from __future__ import annotations

import json
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from io import BytesIO
from typing import Any

import boto3
import botocore.endpoint
import botocore.handlers
import moto.core.models as moto_models
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ConnectTimeoutError


class Fault(StrEnum):
    THROTTLING = "throttling"
    SERVER_ERROR = "500"
    TIMEOUT = "timeout"


KINDS = tuple(Fault)


@dataclass(frozen=True)
class CallSite:
    """One logical AWS call of one handler invocation: the ``index``-th call, the ``occurrence``-th of
    ``operation`` (service.Op)."""

    function: str
    index: int
    operation: str
    occurrence: int = 1

    @property
    def point(self) -> tuple[str, str, int]:
        """The injection point, independent of the path the invocation took to reach it."""
        return self.function, self.operation, self.occurrence


# (call site, HTTP attempt of that call, invocation attempt) → the fault to inject, or None
Plan = Callable[[CallSite, int, int], Fault | None]


@dataclass
class FaultInjector:
    """Numbers each handler's AWS calls and fails the ones ``plan`` picks."""

    plan: Plan = lambda site, http_attempt, attempt: None
    calls: list[CallSite] = field(default_factory=list)
    injected: list[tuple[CallSite, Fault]] = field(default_factory=list)
    backoff_s: float = 0.0  # what botocore would have slept between retries (skipped)

    def __post_init__(self) -> None:
        self._function: str | None = None
        self._attempt = 0
        self._site: CallSite | None = None
        self._protocol = ""
        self._http_attempt = 0
        self._index = 0
        self._attempts: dict[str, int] = {}
        self._disarmed = False
        self._delivery = ""
        self._occurrences: dict[str, int] = {}
        self._crashed: set[tuple[str, str, int]] = set()
        self._crash: CallSite | None = None

    @property
    def sites(self) -> set[CallSite]:
        """Distinct injection points actually hit."""
        return {site for site, _ in self.injected}

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Hook every botocore session created from now on; skip retry sleeps."""
        hooks = [("before-call", self._before_call, botocore.handlers.REGISTER_FIRST),
                 ("before-send", self._before_send, botocore.handlers.REGISTER_FIRST),
                 ("needs-retry", self._rearm, botocore.handlers.REGISTER_FIRST)]
        monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", [*botocore.handlers.BUILTIN_HANDLERS, *hooks])
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # the next boto3.client() builds a hooked session
        clock = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
        clock.sleep = self._sleep
        monkeypatch.setattr(botocore.endpoint, "time", clock)

    def wrap(self, invoke: Callable[[str, dict[str, Any]], Any]) -> Callable[[str, dict[str, Any]], Any]:
        """Wrap LocalCloud.invoke: calls are only counted and faulted while a handler runs."""

        def run(function: str, event: dict[str, Any]) -> Any:
            key = f"{function}:{json.dumps(event, sort_keys=True)}"
            self._attempts[key] = self._attempts.get(key, 0) + 1
            self._delivery = key
            with self._running(function, self._attempts[key]):
                return invoke(function, event)

        return run

    @contextmanager
    def _running(self, function: str, attempt: int) -> Iterator[None]:
        self._function, self._attempt, self._index = function, attempt, 0
        self._occurrences, self._crash = {}, None
        try:
            yield
        finally:
            self._function, self._site = None, None

    def _before_call(self, model: Any, **_: Any) -> None:
        if self._function is None:
            return
        self._index += 1
        service = model.service_model.service_name
        operation = f"{service}.{model.name}"
        self._occurrences[operation] = self._occurrences.get(operation, 0) + 1
        self._site = CallSite(self._function, self._index, operation, self._occurrences[operation])
        self._protocol = getattr(model.service_model, "resolved_protocol", None) or model.metadata["protocol"]
        self._http_attempt = 0
        self.calls.append(self._site)

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        site = self._site
        if self._function is None or site is None:
            return None
        self._http_attempt += 1
        fault = self.plan(site, self._http_attempt, self._attempt)
        if fault is None:
            return None
        self.injected.append((site, fault))
        if fault is Fault.TIMEOUT or self._protocol not in _ERROR_BODIES:
            raise ConnectTimeoutError(endpoint_url=request.url)
        moto_models.botocore_stubber.enabled = False  # moto must not execute the request that "failed"
        self._disarmed = True
        status, headers, body = _ERROR_BODIES[self._protocol](fault)
        return AWSResponse(request.url, status, HTTPHeaders.from_dict(headers), _Raw(body))

    def crash_every_point_once(self, site: CallSite, http_attempt: int, attempt: int) -> Fault | None:
        """A plan: each attempt of a delivery dies (for good) at the first point no earlier attempt died at.

        Reruns take other paths (a resumed step is shorter); every point on any path is still reached.
        """
        if self._crash is None:
            key = (self._delivery, site.operation, site.occurrence)
            if key in self._crashed:
                return None
            self._crashed.add(key)
            self._crash = site
        return KINDS[attempt % len(KINDS)] if site == self._crash else None

    def _rearm(self, **_: Any) -> None:
        """After the faulted attempt's response: moto serves the retry (and everything else) again."""
        if self._disarmed:
            moto_models.botocore_stubber.enabled = True
            self._disarmed = False

    def _sleep(self, seconds: float) -> None:
        self.backoff_s += seconds


class _Raw(BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.read()


def _json(fault: Fault) -> tuple[int, dict[str, str], bytes]:
    code = "ThrottlingException" if fault is Fault.THROTTLING else "InternalServerError"
    body = json.dumps({"__type": code, "message": f"injected {fault.value}"}).encode()
    return (400 if fault is Fault.THROTTLING else 500), {"x-amzn-ErrorType": code, "x-amzn-RequestId": "fault"}, body


def _xml(fault: Fault) -> tuple[int, dict[str, str], bytes]:
    code, status = ("SlowDown", 503) if fault is Fault.THROTTLING else ("InternalError", 500)
    return status, {}, f"<Error><Code>{code}</Code><Message>injected {fault.value}</Message></Error>".encode()


def _query(fault: Fault) -> tuple[int, dict[str, str], bytes]:
    code, status = ("Throttling", 400) if fault is Fault.THROTTLING else ("InternalFailure", 500)
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error>"
            "<RequestId>fault</RequestId></ErrorResponse>")
    return status, {}, body.encode()


_ERROR_BODIES: dict[str, Callable[[Fault], tuple[int, dict[str, str], bytes]]] = {
    "json": _json, "rest-json": _json, "rest-xml": _xml, "query": _query,
}
