"""Fault injection at every AWS call a handler makes, through botocore's own event hooks.

Two handlers are installed on every botocore session created while the injector is active (as moto
installs its own): ``before-call`` numbers the logical API calls of the running handler invocation,
``before-send`` answers chosen HTTP attempts itself, so they never reach the moto server (a throttled request, a
500 or a connect timeout never reaches the service). botocore's retry logic sees real responses and errors, so a
transient fault is retried by botocore itself and a persistent one exhausts its attempts and raises.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from io import BytesIO
from typing import Any

import boto3
import botocore.endpoint
import botocore.handlers
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError, ConnectTimeoutError, WaiterError


class Fault(StrEnum):
    THROTTLING = "throttling"
    SERVER_ERROR = "500"
    TIMEOUT = "timeout"


KINDS = tuple(Fault)
INJECTED = "injected"  # every injected error message starts with it


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
class _Run:
    """The handler invocation running on one thread."""

    function: str
    attempt: int  # of this delivery
    delivery: str
    index: int = 0
    occurrences: dict[str, int] = field(default_factory=dict)
    site: CallSite | None = None
    protocol: str = ""
    http_attempt: int = 0
    crash: CallSite | None = None


@dataclass
class FaultInjector:
    """Numbers each handler's AWS calls and fails the ones ``plan`` picks (per thread: handlers run concurrently)."""

    plan: Plan = lambda site, http_attempt, attempt: None
    calls: list[CallSite] = field(default_factory=list)
    injected: list[tuple[CallSite, Fault]] = field(default_factory=list)
    backoff_s: float = 0.0  # what botocore would have slept between retries (skipped)

    def __post_init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._attempts: dict[str, int] = {}
        self._crashed: set[tuple[str, str, int]] = set()

    @property
    def crashes(self) -> int:
        """How many runs ``crash_every_point_once`` chose to kill."""
        return len(self._crashed)

    @property
    def sites(self) -> set[CallSite]:
        """Distinct injection points actually hit."""
        return {site for site, _ in self.injected}

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Hook every botocore session created from now on; skip retry sleeps."""
        # moto adds its in-process stub to botocore's built-in handlers when first imported: import it before the
        # list is swapped, or a stub added to the patched list is lost when the patch is undone
        importlib.import_module("moto.core.models")
        first = botocore.handlers.REGISTER_FIRST
        hooks: list[tuple[str, Callable[..., Any], object]] = [("before-call", self._before_call, first),
                                                                ("before-send", self._before_send, first)]
        monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", [*botocore.handlers.BUILTIN_HANDLERS, *hooks])
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # the next boto3.client() builds a hooked session
        clock = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
        clock.sleep = self._sleep
        monkeypatch.setattr(botocore.endpoint, "time", clock)

    def wrap(self, invoke: Callable[[str, dict[str, Any]], Any]) -> Callable[[str, dict[str, Any]], Any]:
        """Wrap LocalCloud.invoke: calls are only counted and faulted while a handler runs (on that thread)."""

        def run(function: str, event: dict[str, Any]) -> Any:
            key = f"{function}:{json.dumps(event, sort_keys=True)}"
            with self._lock:
                self._attempts[key] = self._attempts.get(key, 0) + 1
                attempt = self._attempts[key]
            self._local.run = _Run(function, attempt, key)
            try:
                return invoke(function, event)
            finally:
                self._local.run = None

        return run

    def _current(self) -> _Run | None:
        run: _Run | None = getattr(self._local, "run", None)
        return run

    def _before_call(self, model: Any, **_: Any) -> None:
        run = self._current()
        if run is None:
            return
        run.index += 1
        service = model.service_model.service_name
        operation = f"{service}.{model.name}"
        run.occurrences[operation] = run.occurrences.get(operation, 0) + 1
        run.site = CallSite(run.function, run.index, operation, run.occurrences[operation])
        run.protocol = getattr(model.service_model, "resolved_protocol", None) or model.metadata["protocol"]
        run.http_attempt = 0
        self.calls.append(run.site)

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        """A faulted attempt is answered here: the request never reaches the moto server."""
        run = self._current()
        if run is None or run.site is None:
            return None
        run.http_attempt += 1
        fault = self.plan(run.site, run.http_attempt, run.attempt)
        if fault is None:
            return None
        self.injected.append((run.site, fault))
        if fault is Fault.TIMEOUT or run.protocol not in _ERROR_BODIES:
            raise InjectedTimeoutError(endpoint_url=request.url)
        status, headers, body = _ERROR_BODIES[run.protocol](fault)
        return AWSResponse(request.url, status, HTTPHeaders.from_dict(headers), _Raw(body))

    def crash_every_point_once(self, site: CallSite, http_attempt: int, attempt: int) -> Fault | None:
        """A plan: each attempt of a delivery dies (for good) at the first point no earlier attempt died at.

        Reruns take other paths (a resumed step is shorter); every point on any path is still reached.
        """
        run = self._current()
        if run is None:
            return None
        if run.crash is None:
            key = (run.delivery, site.operation, site.occurrence)
            with self._lock:
                if key in self._crashed:
                    return None
                self._crashed.add(key)
            run.crash = site
        return KINDS[attempt % len(KINDS)] if site == run.crash else None

    def _sleep(self, seconds: float) -> None:
        with self._lock:
            self.backoff_s += seconds


class InjectedTimeoutError(ConnectTimeoutError):
    """A connect timeout this module made up (botocore retries it as any other)."""


def was_injected(error: BaseException) -> bool:
    """Whether ``error`` or an error it was raised from or during is a fault this module injected."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, InjectedTimeoutError):
            return True
        response = current.response if isinstance(current, ClientError) else None
        if isinstance(current, WaiterError):  # a waiter gives up on the error response it polled
            response = current.last_response
        if response and str(response.get("Error", {}).get("Message", "")).startswith(INJECTED):
            return True
        current = current.__cause__ or current.__context__
    return False


class _Raw(BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.read()


def _json(fault: Fault) -> tuple[int, dict[str, str], bytes]:
    code = "ThrottlingException" if fault is Fault.THROTTLING else "InternalServerError"
    body = json.dumps({"__type": code, "message": f"{INJECTED} {fault.value}"}).encode()
    return (400 if fault is Fault.THROTTLING else 500), {"x-amzn-ErrorType": code, "x-amzn-RequestId": "fault"}, body


def _xml(fault: Fault) -> tuple[int, dict[str, str], bytes]:
    code, status = ("SlowDown", 503) if fault is Fault.THROTTLING else ("InternalError", 500)
    return status, {}, f"<Error><Code>{code}</Code><Message>{INJECTED} {fault.value}</Message></Error>".encode()


def _query(fault: Fault) -> tuple[int, dict[str, str], bytes]:
    code, status = ("Throttling", 400) if fault is Fault.THROTTLING else ("InternalFailure", 500)
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{INJECTED}</Message></Error>"
            "<RequestId>fault</RequestId></ErrorResponse>")
    return status, {}, body.encode()


_ERROR_BODIES: dict[str, Callable[[Fault], tuple[int, dict[str, str], bytes]]] = {
    "json": _json, "rest-json": _json, "rest-xml": _xml, "query": _query,
}
