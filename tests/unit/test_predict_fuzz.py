"""Fuzz the predict endpoint: thousands of hostile requests, seeded, and not one exception or input-caused 5xx.

Structured requests are JSON texts of odd shapes written literal by literal (deep nesting, numbers beyond float
range, 5,000-digit integers, NaN/Infinity, lone surrogates, wrong types, missing and extra keys, huge instance
counts); byte-level requests are random bytes, truncated JSON, other encodings, base64 flags and events of the
wrong shape. Each goes to the handler (``PredictService.handle``, what Lambda calls), and a share of them to the
local HTTP server as well, with hostile HTTP framing (request lines, headers, Content-Length) over raw sockets.
Every answer must be JSON a Function URL can send, below 500, with an ``error`` message when it is a 4xx.
Derandomized: the same examples every run, so the suite cannot flake.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sluice.local.http import EndpointServer
from sluice.predict import PredictService
from sluice.serving import OnnxModel
from tests.unit.predict_models import FEATURES, MODEL, PREDICT_PATH, FunctionUrl, answer, event, service, train

STRUCTURED = 2_500
BYTES = 1_500
EVENTS = 600
OVER_HTTP = 600
RAW_HTTP = 300
# 5,500 requests per run in all (issue 14 asks for at least 5,000); each run checks it sent its whole budget

FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def services() -> dict[str, PredictService]:
    """One regressor and one classifier, trained once for the module (a fault would be answered 500)."""
    models: dict[str, OnnxModel] = {"regression": train("regression"), "classification": train("classification")}
    return {task: service(model) for task, model in models.items()}


# -- JSON texts, literal by literal --------------------------------------------------------------------------------

HOSTILE_LITERALS = [
    "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "3.5e38", "3.0e38", "1e36", "-1e308",
    "1.7976931348623157e308",
    "-0", "0.0", "1E+2", "null", "true", "false", '""', "[]", "{}", '"\\ud800"', '"\\udfff"', '"a\\ud800b"',
    '"\\ud83d\\ude00"', '"\\u0000"', '"paris"', "[1, 2]", '{"a": 1}', "01", "1.", ".5", "+1", "0x10", "1e", "--1",
]

scalars = st.one_of(
    st.sampled_from(HOSTILE_LITERALS),
    st.integers(min_value=-(10**80), max_value=10**80).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(min_value=1e30, max_value=3.4e38).map(repr),
    st.text(alphabet=st.characters(codec=None), max_size=12).map(lambda text: json.dumps(text)),
    st.text(alphabet=st.characters(categories=["Cs", "Lo", "So"]), min_size=1, max_size=4).map(
        lambda text: json.dumps(text)),
    st.integers(min_value=60, max_value=5_000).map(lambda digits: "9" * digits),
    st.integers(min_value=1, max_value=2_000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(min_value=1, max_value=400).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
    st.integers(min_value=1, max_value=5_000).map(lambda count: '"' + '\\"' * count),  # unterminated escapes
)
good_values = {"age": st.floats(0, 90).map(repr) | st.just("null"), "rooms": st.integers(0, 9).map(str),
               "city": st.sampled_from(['"paris"', '"lyon"', "null", '"x"']), "furnished": st.sampled_from(
                   ["true", "false"])}
keys = st.sampled_from([*FEATURES, "AGE", "", "extra", "\\ud800", "age ", "__proto__"]).map(lambda key: f'"{key}"')


@st.composite
def instance(draw: st.DrawFn) -> str:
    """An object of features: mostly the right keys with good values, some replaced, dropped or added."""
    fields = {f'"{name}"': draw(good_values[name] | scalars if draw(st.booleans()) else good_values[name])
              for name in FEATURES if draw(st.integers(0, 9)) > 0}
    fields.update(draw(st.dictionaries(keys, scalars, max_size=2)))
    return "{" + ", ".join(f"{key}: {value}" for key, value in fields.items()) + "}"


@st.composite
def structured_body(draw: st.DrawFn) -> bytes:
    rows = draw(st.lists(instance() | scalars, max_size=6))
    instances = draw(st.sampled_from([
        "[" + ", ".join(rows) + "]",
        "[" + ", ".join([rows[0] if rows and len(rows[0]) < 80 else "{}"] * 10_001) + "]",
        "{}", "null", '"instances"', "[[]]", "7",
    ]))
    shape = draw(st.sampled_from([
        '{"instances": %s}', '{"instances": %s, "parameters": {"x": 1}}', '{"inputs": %s}', "%s",
        '{"instances": %s, "instances": []}', '[{"instances": %s}]', '{"instances": %s', '{"instances": %s}}',
    ]))
    return (shape % instances).encode("utf-8", "surrogatepass")


# -- bytes and events ----------------------------------------------------------------------------------------------

VALID = json.dumps({"instances": [{"age": 3.5, "rooms": 2, "city": "nice\u00e9", "furnished": True}]})


@st.composite
def byte_body(draw: st.DrawFn) -> tuple[Any, bool]:
    """(body as the event carries it, isBase64Encoded)."""
    kind = draw(st.sampled_from(["random", "truncated", "encoding", "base64", "bad-base64", "padded"]))
    if kind == "random":
        return draw(st.binary(max_size=512)), False
    if kind == "truncated":
        return VALID.encode()[: draw(st.integers(0, len(VALID) - 1))], False
    if kind == "encoding":
        codec = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "utf-8-sig"]))
        return VALID.encode(codec), False
    if kind == "base64":
        return base64.b64encode(draw(st.binary(max_size=256) | st.just(VALID.encode()))).decode(), True
    if kind == "bad-base64":
        return draw(st.text(max_size=64)), True
    return draw(st.sampled_from([" ", "\n", "\x00", "\ufeff"])) * draw(st.integers(1, 64)) + VALID, False


odd_values = st.one_of(st.none(), st.integers(), st.text(max_size=8), st.lists(st.integers(), max_size=2),
                       st.dictionaries(st.text(max_size=4), st.integers(), max_size=2), st.booleans())


@st.composite
def odd_event(draw: st.DrawFn) -> Any:
    """A Function URL event with one part of the wrong type or value (or not an event at all)."""
    base = event(VALID.encode(), method=draw(st.sampled_from(["POST", "GET", "PUT", "post", "DELETE", ""])),
                 path=draw(st.sampled_from([PREDICT_PATH, f"/v1/models/{MODEL}", f"{PREDICT_PATH}?x=1", "/",
                                            "/v1/models/other:predict", "", f"/v1/models/{MODEL}:explain"])))
    part = draw(st.sampled_from(["body", "headers", "requestContext", "rawPath", "isBase64Encoded", "none"]))
    if part != "none":
        base[part] = draw(odd_values)
    return draw(st.just(base) | odd_values)


# -- the local HTTP server -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(services: dict[str, PredictService]) -> Iterator[EndpointServer]:
    running = EndpointServer(FunctionUrl(services["classification"])).start()  # type: ignore[arg-type]
    yield running
    running.stop()


@st.composite
def raw_request(draw: st.DrawFn) -> bytes:
    """An HTTP/1.x request with a hostile request line, headers or Content-Length (or plain garbage)."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(min_size=1, max_size=300))
    method = draw(st.sampled_from(["POST", "GET", "PUT", "OPTIONS", "BREW", "", "P\x00ST", "post"]))
    path = draw(st.sampled_from([PREDICT_PATH, f"{PREDICT_PATH}?a=1&a=2", "/", "*", "//x", "/%00", " ", "/v1/models/"
                                 + "a" * 5000]))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 extra", "", "HTTPS/1.1"]))
    body = draw(structured_body() | st.binary(max_size=64))
    length = draw(st.sampled_from([str(len(body)), str(len(body) + 5), "abc", "-1", "", " 7", "1e3",
                                   str(2**64), "0x10"]))
    headers = draw(st.lists(st.sampled_from([
        f"Content-Length: {length}", "Content-Length: 3", "Transfer-Encoding: chunked", "X-Request-Id: \xff\xfe",
        "no colon here", ": empty name", "Host:", "X-Long: " + "b" * 70_000]), max_size=4))
    head = f"{method} {path} {version}\r\n" + "".join(f"{header}\r\n" for header in headers) + "\r\n"
    return head.encode("latin-1", "replace") + body


def _exchange(server: EndpointServer, raw: bytes) -> bytes:
    """Send raw bytes, close the sending side, and return everything the server answered."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(raw)
        connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def _post(server: EndpointServer, body: bytes) -> tuple[int, dict[str, Any]]:
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("POST", PREDICT_PATH, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        status, payload = response.status, response.read()
    finally:
        connection.close()
    document = json.loads(payload)
    assert isinstance(document, dict)
    return status, document


# -- the runs ------------------------------------------------------------------------------------------------------


def _run(strategy: st.SearchStrategy[Any], examples: int, send: Callable[[Any], None]) -> int:
    """Send ``examples`` generated values with ``send``; return how many were sent."""
    sent = 0

    @settings(FUZZ, max_examples=examples)
    @given(strategy)
    def fuzz(value: Any) -> None:
        nonlocal sent
        sent += 1
        send(value)

    fuzz()
    return sent


def test_structured_json_never_breaks_the_handler(services: dict[str, PredictService]) -> None:
    # GIVEN JSON texts of odd shapes, for a regressor and a classifier
    def send(value: tuple[str, bytes]) -> None:
        task, body = value
        # WHEN each is posted to the handler
        status, document = answer(services[task].handle(event(body)))
        # THEN it is answered (200 or a 4xx with a message), never a 5xx
        assert status == 200 or 400 <= status < 500, (status, document, body[:200])

    sent = _run(st.tuples(st.sampled_from(["regression", "classification"]), structured_body()), STRUCTURED, send)
    assert sent >= STRUCTURED


def test_bytes_and_encodings_never_break_the_handler(services: dict[str, PredictService]) -> None:
    # GIVEN random bytes, truncated JSON, other encodings and base64 bodies (valid or not)
    def send(value: tuple[Any, bool]) -> None:
        body, encoded = value
        status, document = answer(services["regression"].handle(event(body, encoded=encoded)))
        assert status == 200 or 400 <= status < 500, (status, document, value)

    assert _run(byte_body(), BYTES, send) >= BYTES


def test_events_of_odd_shapes_never_break_the_handler(services: dict[str, PredictService]) -> None:
    # GIVEN events with a part of the wrong type, other methods and paths, or no event at all
    def send(value: Any) -> None:
        status, document = answer(services["classification"].handle(value))
        assert status == 200 or 400 <= status < 500, (status, document, value)

    assert _run(odd_event(), EVENTS, send) >= EVENTS


def test_the_local_http_server_answers_hostile_bodies_with_json(server: EndpointServer) -> None:
    # GIVEN structured and byte-level bodies sent over a real socket to the local endpoint
    def send(body: bytes) -> None:
        # WHEN posted / THEN a JSON answer below 500 with a message for a refusal
        status, document = _post(server, body)
        assert status == 200 or (400 <= status < 500 and isinstance(document.get("error"), str)), (status, body)

    bodies = structured_body() | byte_body().map(lambda value: value[0].encode("utf-8", "surrogatepass")
                                                 if isinstance(value[0], str) else value[0])
    assert _run(bodies, OVER_HTTP, send) >= OVER_HTTP


def test_the_local_http_server_answers_hostile_framing_with_json(server: EndpointServer) -> None:
    # GIVEN requests with hostile request lines, headers, Content-Length values and bodies, over a raw socket
    def send(raw: bytes) -> None:
        # WHEN sent / THEN every answer in the stream (bytes left after a body are read as the next request) is
        # JSON below 500 with a message for a refusal; no answer only to a blank request line
        stream = _exchange(server, raw)
        if not stream:
            assert not raw.split(b"\n", 1)[0].decode("latin-1").split(), raw[:80]
        while stream:
            status, document, stream = _next_answer(stream)
            assert status < 500 and (status < 400 or document["error"]), (status, document, raw[:200])

    assert _run(raw_request(), RAW_HTTP, send) >= RAW_HTTP


def _next_answer(stream: bytes) -> tuple[int, dict[str, Any], bytes]:
    head, _, rest = stream.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    assert headers["content-type"] == "application/json", head
    length = int(headers["content-length"])
    document = json.loads(rest[:length])
    assert isinstance(document, dict)
    return status, document, rest[length:]
