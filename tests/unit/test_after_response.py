"""Nothing slow on the request path: release telemetry, shadow scoring and capture run after the response, and
none of it is lost at Lambda's freeze (the internal extension drains before asking for the next event) or at
shutdown (SIGTERM flushes what is left)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sluice.endpoint import PinnedModel
from sluice.predict.after import AfterResponse
from sluice.predict.capture import CaptureBuffer
from sluice.predict.extension import EXTENSION_NAME, AfterResponseExtension, ExtensionsApi, after_response
from sluice.predict.release import ReleaseTelemetry
from sluice.serving import OnnxModel
from tests.unit import predict_models
from tests.unit.predict_models import MODEL, ListSink, event

REPO = Path(__file__).resolve().parents[2]
SAFETY_S = 60  # a hung test fails instead of hanging; no verdict depends on it


@pytest.fixture(scope="module")
def model() -> OnnxModel:
    return predict_models.train("classification")


def _row(rooms: int) -> dict[str, Any]:
    return {"age": 10.0, "rooms": rooms, "city": "paris", "furnished": True}


def _shadowed(model: OnnxModel, after: AfterResponse, sink: ListSink) -> tuple[Any, list[dict[str, Any]]]:
    """A live v1 service whose release has a shadow v2 (the same model), telemetry printed nowhere."""
    shadow_log: list[dict[str, Any]] = []
    telemetry = ReleaseTelemetry(MODEL, PinnedModel(MODEL, 1, "0" * 64), loader=lambda _: model,
                                 shadow_source=lambda _: PinnedModel(MODEL, 2, "1" * 64), emit=lambda *_: None,
                                 log=shadow_log.append)
    service = predict_models.service(model, observer=telemetry.observe, defer=after.defer,
                                     capture=CaptureBuffer(sink, rate=1.0, batch=100))
    return service, shadow_log


def test_the_answer_is_ready_before_shadow_scoring_and_capture_run(model: OnnxModel) -> None:
    # GIVEN a shadow release and capture, with post-response work held until the invocation hands it over
    handed_over: list[int] = []
    after = AfterResponse(handover=lambda: handed_over.append(after.pending))
    sink = ListSink()
    service, shadow_log = _shadowed(model, after, sink)
    # WHEN a request is answered
    with after.invocation():
        response = service.handle(event(json.dumps({"instances": [_row(2), _row(3)]})))
        # THEN the answer exists while the shadow has scored nothing and nothing was captured
        assert response["statusCode"] == 200
        assert shadow_log == [] and after.pending == 2
    # AND the invocation's end hands its work over (to the extension on Lambda)
    assert handed_over == [2]
    # WHEN the drainer runs it
    assert after.run_pending() == 2
    # THEN the shadow scored the same instances as live and agreed, and the request was captured (then flushed)
    (record,) = shadow_log
    assert record["shadow_version"] == 2 and record["live"] == json.loads(response["body"])["predictions"]
    assert record["agreement"] == 1.0
    after.shutdown()  # no shutdown hook registered: the buffer stays until its own flush
    assert sink.records == []


def test_without_a_drainer_the_work_runs_when_the_invocation_ends_and_nothing_is_lost(model: OnnxModel) -> None:
    # GIVEN the local runtime's setting (no extension) and a capture that flushes at shutdown
    after = AfterResponse()
    sink = ListSink()
    service, shadow_log = _shadowed(model, after, sink)
    capture = service.capture
    assert capture is not None
    after.on_shutdown(capture.flush)
    # WHEN 25 requests are answered, then the environment shuts down
    for index in range(25):
        with after.invocation():
            assert service.handle(event(json.dumps({"instances": [_row(1 + index % 5)]})))["statusCode"] == 200
        assert after.pending == 0
    after.shutdown()
    # THEN every shadow result and every capture was delivered, in request order
    assert len(shadow_log) == 25 and {record["agreement"] for record in shadow_log} == {1.0}
    assert [record["features"]["rooms"] for record in sink.records] == [1 + index % 5 for index in range(25)]


def test_a_failing_task_is_logged_and_the_rest_still_run() -> None:
    after = AfterResponse(handover=lambda: None)
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("shadow model vanished")

    after.defer(lambda: ran.append("first"))
    after.defer(broken)
    after.defer(lambda: ran.append("third"))
    assert after.run_pending() == 3 and ran == ["first", "third"] and after.failed == 1


class FakeExtensionsApi:
    """Lambda's Extensions API as documented, over real HTTP: register (INVOKE only for an internal extension),
    then ``event/next`` blocks until the test releases the next event; every call is logged in order."""

    def __init__(self) -> None:
        self.calls: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.events: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.registered: dict[str, Any] = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                assert self.path == "/2020-01-01/extension/register"
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                api.registered = {"name": self.headers["Lambda-Extension-Name"], **body}
                api.calls.put("register")
                self._answer({"functionName": "f"}, {"Lambda-Extension-Identifier": "ext-1"})

            def do_GET(self) -> None:
                assert self.path == "/2020-01-01/extension/event/next"
                assert self.headers["Lambda-Extension-Identifier"] == "ext-1"
                api.calls.put("next")
                self._answer(api.events.get(timeout=SAFETY_S), {})

            def _answer(self, document: dict[str, Any], headers: dict[str, str]) -> None:
                body = json.dumps(document).encode()
                self.send_response(200)
                for key, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, request_id: str) -> None:
        self.events.put({"eventType": "INVOKE", "requestId": request_id, "deadlineMs": 0})

    def next_call(self) -> str:
        return self.calls.get(timeout=SAFETY_S)


@pytest.fixture
def extensions_api() -> Iterator[FakeExtensionsApi]:
    api = FakeExtensionsApi()
    yield api
    api.server.shutdown()
    api.events.put({"eventType": "SHUTDOWN"})  # a waiting extension's next call then finds no agent and stops


def test_on_lambda_the_extension_runs_the_work_before_asking_for_the_next_event(
        extensions_api: FakeExtensionsApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("signal.signal", lambda *_: None)  # the SIGTERM hook is tested in its own process
    # GIVEN a predict function's init on Lambda: the extension registers and waits for its first event
    after = after_response({"AWS_LAMBDA_RUNTIME_API": extensions_api.address})
    assert extensions_api.next_call() == "register" and extensions_api.next_call() == "next"
    assert extensions_api.registered == {"name": EXTENSION_NAME, "events": ["INVOKE"]}
    ran: list[str] = []
    release = threading.Event()
    # WHEN Lambda delivers an invocation and the handler answers, leaving slow work behind
    extensions_api.invoke("req-1")
    with after.invocation():
        after.defer(lambda: release.wait(SAFETY_S) and ran.append("shadow scored"))
        after.defer(lambda: ran.append("captured"))
    # THEN the handler has returned, yet the extension has not asked for the next event (Lambda cannot freeze)
    assert ran == [] and extensions_api.calls.empty()
    # WHEN the work finishes
    release.set()
    # THEN the extension asks for the next event only after all of it ran, in order
    assert extensions_api.next_call() == "next"
    assert ran == ["shadow scored", "captured"] and after.pending == 0


def test_an_extension_that_cannot_register_leaves_the_work_in_the_handler() -> None:
    # GIVEN an Extensions API that refuses the registration
    def refuse(_: Any) -> tuple[dict[str, str], bytes]:
        raise OSError("connection refused")

    after = after_response({}, api=ExtensionsApi("127.0.0.1:9", transport=refuse))
    ran: list[int] = []
    # WHEN an invocation defers work THEN it still runs, at the invocation's end
    with after.invocation():
        after.defer(lambda: ran.append(1))
    assert ran == [1]


def test_when_the_agent_goes_away_the_handler_runs_its_own_work() -> None:
    # GIVEN an extension whose next-event call fails (the Lambda agent is gone)
    def transport(request: Any) -> tuple[dict[str, str], bytes]:
        if request.full_url.endswith("/register"):
            return {"Lambda-Extension-Identifier": "ext-1"}, b"{}"
        raise ConnectionResetError("agent gone")

    after = AfterResponse()
    AfterResponseExtension(after, ExtensionsApi("127.0.0.1:9", transport=transport)).start().join(SAFETY_S)
    ran: list[int] = []
    # WHEN an invocation defers work THEN it runs at the invocation's end instead of waiting for the extension
    with after.invocation():
        after.defer(lambda: ran.append(1))
    assert ran == [1]


SHUTDOWN_PROBE = """
import json, os, signal, sys
from sluice.predict.after import AfterResponse
from sluice.predict.capture import CaptureBuffer

class FileSink:
    def send(self, records):
        with open(sys.argv[1], "ab") as out:
            out.write(b"".join(records))
        return 0

after = AfterResponse(handover=lambda: None)  # as on Lambda: the extension drains, not the handler
after.install_sigterm()
capture = CaptureBuffer(FileSink(), rate=1.0, batch=100)
after.on_shutdown(capture.flush)
for index in range(3):
    with after.invocation():
        after.defer(lambda index=index: capture.record(
            request_id=f"r{index}", model_version="1", instances=[{"x": index}], outputs=[index],
            probabilities=None, kinds={"x": "float"}))
after.run_pending()  # the extension drained each invocation: 3 records buffered, below the batch of 100
with after.invocation():  # a last invocation whose work the environment's shutdown overtakes
    after.defer(lambda: capture.record(request_id="r3", model_version="1", instances=[{"x": 3}], outputs=[3],
                                       probabilities=None, kinds={"x": "float"}))
os.kill(os.getpid(), signal.SIGTERM)
print("not reached")
"""


def test_at_shutdown_sigterm_delivers_the_queued_work_and_the_buffered_captures(tmp_path: Path) -> None:
    # GIVEN a process holding buffered captures and one queued task WHEN Lambda shuts it down (SIGTERM)
    out = tmp_path / "captures.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO / "layers" / "sluice" / "python")}
    result = subprocess.run([sys.executable, "-c", SHUTDOWN_PROBE, str(out)], env=env, capture_output=True, text=True)
    # THEN it exits cleanly and every capture reached the sink, the queued one included
    assert result.returncode == 0, result.stderr
    assert "not reached" not in result.stdout
    assert [json.loads(line)["request_id"] for line in out.read_text().splitlines()] == ["r0", "r1", "r2", "r3"]
