"""Serve the predict endpoint of a LocalCloud over local HTTP (loopback only), answering as a Function URL does.

Every method reaches the function (which answers a JSON 405 where it does not apply); the query string is
stripped from the path (a Function URL routes on ``rawPath``); whatever the server itself refuses (a malformed
request line, header or ``Content-Length``, a body over the payload limit, a client that stops sending) gets a
JSON answer with a message, never an HTML page or a dropped connection. ``GET /`` answers liveness in the
KServe V1 shape (``{"status": "alive"}``); readiness is the function's own ``GET /v1/models/<model>``
(``{"name": ..., "ready": true|false}``). Each connection has its own thread, and ``LocalCloud.http`` runs
concurrent requests in separate execution environments (``sluice.local.environments``).
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from sluice.local.runtime import LocalCloud

MAX_REQUEST_BYTES = 6 * 1024 * 1024  # the Function URL payload limit
SOCKET_TIMEOUT_S = 10.0  # a client that stops sending mid-request is answered 408, not waited for forever
LISTEN_BACKLOG = 256  # connections the kernel queues while every handler thread is busy (socketserver's is 5)
LINGER_S = 2.0  # how long a closing connection keeps reading what the client still sends


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


class EndpointServer:
    """``POST /v1/models/<model>:predict`` → the model's predict function through alias ``live``."""

    def __init__(self, cloud: LocalCloud, host: str = "127.0.0.1", port: int = 0) -> None:
        self._cloud = cloud
        self._server = _Server((host, port), self._handler_class())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> EndpointServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="sluice-endpoint", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        cloud = self._cloud

        class Handler(BaseHTTPRequestHandler):
            server_version = "sluice-local"
            timeout = SOCKET_TIMEOUT_S

            def __getattr__(self, name: str) -> Any:
                if name.startswith("do_"):  # every method token reaches the function, as on a Function URL
                    return self._serve
                raise AttributeError(name)

            def _serve(self) -> None:
                if self.request_version == "HTTP/0.9":  # answer a bare "GET /" with a status line and headers
                    self.request_version = "HTTP/1.0"
                target = urlsplit(self.path)
                path = target.path or "/"
                if self.command == "GET" and path == "/":
                    self._reply(200, {"status": "alive"}, "")
                    return
                body = self._body()
                if body is None:
                    return
                try:
                    response = cloud.http(self.command, path, body, dict(self.headers.items()), query=target.query)
                except Exception as error:  # the local server must answer, as Lambda's frontend would
                    self._reply(502, {"error": f"the function failed: {type(error).__name__}"}, "")
                    return
                self._reply(response.status, response.body, response.lambda_version)

            def _body(self) -> bytes | None:
                """The request body, or None once a refusal has been sent."""
                refusal, body = self._read_body()
                if refusal is not None:
                    self.close_connection = True
                    self._reply(refusal[0], {"error": refusal[1]}, "")
                    return None
                return body

            def _read_body(self) -> tuple[tuple[int, str] | None, bytes]:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    return (411, "send the body with a Content-Length (chunked bodies are not read)"), b""
                declared = self.headers.get("Content-Length")
                if declared is None:
                    return None, b""
                if not declared.strip().isdigit():
                    return (400, f"Content-Length must be a number of bytes, not {declared[:40]!r}"), b""
                length = int(declared)
                if length > MAX_REQUEST_BYTES:
                    return (413, f"the body exceeds {MAX_REQUEST_BYTES} bytes"), b""
                try:
                    body = self.rfile.read(length)
                except TimeoutError:
                    return (408, f"the body did not arrive within {SOCKET_TIMEOUT_S:g} s"), b""
                if len(body) < length:
                    return (400, f"the body ended after {len(body)} of {length} bytes"), b""
                return None, body

            def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
                """What http.server refuses itself (request line, headers, version) is JSON too, and a 4xx: an
                unsupported HTTP version is the caller's error (505 otherwise), never a server fault."""
                code = 400 if code >= 500 else code
                self.close_connection = True
                self.request_version = "HTTP/1.1"  # a garbled request line would otherwise get a bare HTTP/0.9 body
                try:
                    self._reply(code, {"error": message or explain or self.responses.get(code, ("error",))[0]}, "")
                except OSError:
                    return

            def _reply(self, status: int, document: dict[str, object], version: str) -> None:
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if self.close_connection:
                    self.send_header("Connection", "close")
                if version:
                    self.send_header("X-Sluice-Lambda-Version", version)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def finish(self) -> None:
                super().finish()
                self._linger()

            def _linger(self) -> None:
                """Read (and drop) what the client still sends before the socket closes: closing with unread
                input resets the connection, which can destroy the answer before the client has read it."""
                try:
                    self.connection.shutdown(socket.SHUT_WR)
                    self.connection.settimeout(LINGER_S)
                    drained = 0
                    while drained <= MAX_REQUEST_BYTES and (chunk := self.connection.recv(65536)):
                        drained += len(chunk)
                except OSError:
                    return

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler
