"""An internal Lambda extension that runs the predict function's post-response work (``sluice.predict.after``).

Lambda Extensions API (``http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension``): ``POST /register`` with the header
``Lambda-Extension-Name`` and ``{"events": ["INVOKE"]}`` (internal extensions cannot register for SHUTDOWN) answers
with the ``Lambda-Extension-Identifier`` header; ``GET /event/next`` with that header blocks until the next event.
Registration happens during the function's init, and the first ``next`` call is what tells Lambda the extension's
init is done. For every INVOKE the extension waits for the handler to hand over (``handed_over``), runs the queued
work, and only then calls ``next`` again: Lambda freezes the environment once the runtime and all extensions have
called ``next``, so the queue is always empty at a freeze.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from sluice.predict.after import AfterResponse

ENV_RUNTIME_API = "AWS_LAMBDA_RUNTIME_API"
EXTENSION_NAME = "sluice-after-response"
API_VERSION = "2020-01-01"
log = logging.getLogger(__name__)

Transport = Callable[[urllib.request.Request], tuple[Mapping[str, str], bytes]]


def _urlopen(request: urllib.request.Request) -> tuple[Mapping[str, str], bytes]:
    with urllib.request.urlopen(request, timeout=None) as response:  # the runtime API: no timeout on next
        return dict(response.headers), response.read()


class ExtensionsApi:
    """The two calls of the Extensions API an INVOKE-only internal extension makes."""

    def __init__(self, runtime_api: str, *, transport: Transport = _urlopen) -> None:
        self._base = f"http://{runtime_api}/{API_VERSION}/extension"
        self._transport = transport

    def register(self, name: str) -> str:
        request = urllib.request.Request(
            f"{self._base}/register", data=json.dumps({"events": ["INVOKE"]}).encode(), method="POST",
            headers={"Lambda-Extension-Name": name, "Content-Type": "application/json"})
        headers, _ = self._transport(request)
        identifier = {key.lower(): value for key, value in headers.items()}.get("lambda-extension-identifier")
        if not identifier:
            raise RuntimeError("the Extensions API registered the extension without an identifier")
        return identifier

    def next_event(self, identifier: str) -> dict[str, Any]:
        request = urllib.request.Request(f"{self._base}/event/next", method="GET",
                                         headers={"Lambda-Extension-Identifier": identifier})
        _, body = self._transport(request)
        event: dict[str, Any] = json.loads(body)
        return event


class AfterResponseExtension:
    """Drains ``after`` between the handler's end and Lambda's freeze, on its own thread."""

    def __init__(self, after: AfterResponse, api: ExtensionsApi) -> None:
        self._after = after
        self._api = api
        self._handed_over: queue.SimpleQueue[None] = queue.SimpleQueue()
        self.invocations = 0

    def handed_over(self) -> None:
        """Called by the handler's invocation block when it ends: this invocation's work may run now."""
        self._handed_over.put(None)

    def start(self) -> threading.Thread:
        """Register (during init, as Lambda requires), then serve events on a daemon thread."""
        identifier = self._api.register(EXTENSION_NAME)
        self._after.set_handover(self.handed_over)
        thread = threading.Thread(target=self._serve, args=(identifier,), name=EXTENSION_NAME, daemon=True)
        thread.start()
        return thread

    def _serve(self, identifier: str) -> None:
        try:
            self._loop(identifier)
        except Exception as error:  # the agent went away: the handler drains its own work from now on
            log.warning("post-response extension stopped (%s); post-response work runs in the handler", error)
            self._after.set_handover(None)
            self._after.run_pending()

    def _loop(self, identifier: str) -> None:
        while True:
            event = self._api.next_event(identifier)
            if event.get("eventType") != "INVOKE":
                log.warning("extension event %s ignored", event.get("eventType"))
                continue
            self._handed_over.get()  # the handler of this invocation has finished: its response is on its way
            self._after.run_pending()
            self.invocations += 1


def after_response(environ: Mapping[str, str], *, api: ExtensionsApi | None = None) -> AfterResponse:
    """The post-response queue of a predict function: drained by the internal extension on Lambda (SIGTERM
    runs what is left at shutdown), at the end of each invocation elsewhere or if the extension cannot register
    (slower answers, nothing lost)."""
    after = AfterResponse()
    runtime_api = environ.get(ENV_RUNTIME_API)
    if runtime_api or api is not None:
        try:
            AfterResponseExtension(after, api or ExtensionsApi(str(runtime_api))).start()
        except Exception as error:
            log.warning("post-response extension not registered (%s); post-response work runs in the handler", error)
            return after
        after.install_sigterm()
    return after
