"""The local endpoint answers like a Function URL: every method reaches the function, the query string is not part
of the route, and what the server refuses itself is JSON with a message (never HTML, a hang or a dropped socket).

AWS behaviour followed: Lambda Function URLs invoke the function for any HTTP method and route on ``rawPath``
(the query string arrives apart, in ``rawQueryString``) — docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html;
liveness and readiness follow the KServe V1 protocol (``GET /`` → ``{"status": "alive"}``,
``GET /v1/models/<model>`` → ``{"name": ..., "ready": true}``).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sluice.local import http as local_http
from sluice.local.http import EndpointServer
from tests.unit.predict_models import MODEL, PREDICT_PATH, FunctionUrl, service, train

VALID = json.dumps({"instances": [{"age": 3.5, "rooms": 2, "city": "nice", "furnished": True}]}).encode()


@pytest.fixture(scope="module")
def function_url() -> FunctionUrl:
    return FunctionUrl(service(train("classification")))


@pytest.fixture
def server(function_url: FunctionUrl, monkeypatch: pytest.MonkeyPatch) -> Iterator[EndpointServer]:
    monkeypatch.setattr(local_http, "SOCKET_TIMEOUT_S", 0.5)  # a stalled client is answered sooner
    running = EndpointServer(function_url).start()  # type: ignore[arg-type]
    yield running
    running.stop()


def exchange(server: EndpointServer, raw: bytes, *, half_close: bool = True) -> tuple[int, dict[str, Any]]:
    """Send ``raw`` bytes on a fresh connection; return the status and the JSON body of the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(raw)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/json" in head.lower(), head
    document = json.loads(body)
    assert isinstance(document, dict)
    return status, document


def request(method: str, path: str, body: bytes = b"", headers: str = "") -> bytes:
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    return f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n{length}{headers}\r\n".encode() + body


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_every_method_reaches_the_function_which_answers_a_json_405(server: EndpointServer, method: str) -> None:
    # GIVEN a method the predict route does not take / WHEN sent / THEN the function's JSON 405, not an HTML 501
    status, document = exchange(server, request(method, PREDICT_PATH, VALID))
    assert status == 405 and "POST" in document["error"]


def test_the_query_string_is_not_part_of_the_route(server: EndpointServer, function_url: FunctionUrl) -> None:
    # GIVEN a prediction with a query string / WHEN posted / THEN it is served (a Function URL routes on rawPath)
    status, document = exchange(server, request("POST", f"{PREDICT_PATH}?explain=1&x=%20", VALID))
    assert status == 200 and document["predictions"]
    assert function_url.paths[-1] == PREDICT_PATH
    # AND it reaches the function as a Function URL passes it (payload 2.0: raw, and parsed with values decoded)
    event = function_url.events[-1]
    assert event["rawQueryString"] == "explain=1&x=%20"
    assert event["queryStringParameters"] == {"explain": "1", "x": " "}


def test_repeated_query_keys_are_joined_by_commas_and_no_query_means_no_parameters() -> None:
    from sluice.local.aws_events import function_url_event

    event = function_url_event("GET", "/", b"", {}, now=0.0, query="a=1&a=2&b=")
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert "queryStringParameters" not in function_url_event("GET", "/", b"", {}, now=0.0)


@pytest.mark.parametrize(("length", "expected", "message"), [
    ("abc", 400, "Content-Length must be a number"),
    ("-5", 400, "Content-Length must be a number"),
    (str(local_http.MAX_REQUEST_BYTES + 1), 413, "exceeds"),
])
def test_a_malformed_content_length_is_answered_400(server: EndpointServer, length: str, expected: int,
                                                    message: str) -> None:
    # GIVEN a Content-Length that is not a byte count, or too large / WHEN sent / THEN a JSON refusal
    raw = f"POST {PREDICT_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode() + VALID
    status, document = exchange(server, raw)
    assert status == expected and message in document["error"]


def test_a_body_shorter_than_announced_is_answered_not_waited_for(server: EndpointServer) -> None:
    # GIVEN a client that announces 100 bytes, sends 10 and keeps the socket open
    raw = f"POST {PREDICT_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n".encode() + VALID[:10]
    # WHEN the server's socket timeout passes / THEN it answers 408 and closes
    status, document = exchange(server, raw, half_close=False)
    assert status == 408 and "did not arrive" in document["error"]


def test_a_body_cut_short_by_the_client_is_answered_400(server: EndpointServer) -> None:
    raw = f"POST {PREDICT_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n".encode() + VALID[:10]
    status, document = exchange(server, raw, half_close=True)
    assert status == 400 and "ended after 10 of 100 bytes" in document["error"]


@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"POST /x HTTP/9.9\r\n\r\n",
    b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(120)) + b"\r\n",
])
def test_what_http_server_refuses_itself_is_json(server: EndpointServer, raw: bytes) -> None:
    # GIVEN a malformed request line, an unknown version, an oversized header or too many headers
    # WHEN sent / THEN a 4xx/5xx JSON answer with a message (http.server's own HTML page otherwise)
    status, document = exchange(server, raw)
    assert 400 <= status < 600 and document["error"]


def test_liveness_and_readiness_in_the_kserve_v1_shape(server: EndpointServer) -> None:
    # WHEN GET / and GET /v1/models/<model> / THEN alive, and the model ready under its name
    assert exchange(server, request("GET", "/")) == (200, {"status": "alive"})
    status, document = exchange(server, request("GET", f"/v1/models/{MODEL}"))
    assert status == 200 and document["name"] == MODEL and document["ready"] is True


def test_32_concurrent_clients_are_all_answered(server: EndpointServer) -> None:
    # GIVEN 32 clients connecting at once / WHEN each posts a prediction / THEN every one is answered 200
    results: list[int] = []
    errors: list[BaseException] = []

    def client() -> None:
        try:
            results.append(exchange(server, request("POST", PREDICT_PATH, VALID))[0])
        except Exception as error:  # a reset or refused connection is what this test is about
            errors.append(error)

    threads = [threading.Thread(target=client) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [200] * 32
