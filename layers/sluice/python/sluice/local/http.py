"""Serve the predict endpoint of a LocalCloud over local HTTP (loopback only)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sluice.local.runtime import LocalCloud

MAX_REQUEST_BYTES = 6 * 1024 * 1024


class EndpointServer:
    """``POST /v1/models/<model>:predict`` → the model's predict function through alias ``live``."""

    def __init__(self, cloud: LocalCloud, host: str = "127.0.0.1", port: int = 0) -> None:
        self._cloud = cloud
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
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

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_REQUEST_BYTES:
                    self._reply(413, {"error": f"the body exceeds {MAX_REQUEST_BYTES} bytes"}, "")
                    return
                body = self.rfile.read(length) if length else b""
                try:
                    response = cloud.http(method, self.path, body, dict(self.headers.items()))
                except Exception as error:  # the local server must answer, as Lambda's frontend would
                    self._reply(502, {"error": f"the function failed: {type(error).__name__}"}, "")
                    return
                self._reply(response.status, response.body, response.lambda_version)

            def _reply(self, status: int, document: dict[str, object], version: str) -> None:
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if version:
                    self.send_header("X-Sluice-Lambda-Version", version)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler
