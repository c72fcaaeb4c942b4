"""AWS for the reliability suite: moto's server mode in its own process, serving one API request at a time.

Handlers reach it over HTTP (``AWS_ENDPOINT_URL``) from several threads at once, so they interleave between
calls as they do on AWS; each call is served whole before the next begins, so every call is atomic as the real
service's is (moto's backends are not safe against two requests interleaving inside one conditional write). In a
process of its own, the server never waits for the GIL of the handlers it serves.

``python -m tests.reliability.server`` serves on a free port and prints it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


class SerialMotoServer:
    """The server process: started, reset between stacks, stopped."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._port = 0

    @property
    def url(self) -> str:
        if self._process is None:
            raise RuntimeError("the moto server is not running")
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> SerialMotoServer:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
        self._process = subprocess.Popen([sys.executable, "-m", "tests.reliability.server"], cwd=REPO, env=env,
                                         stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"the moto server did not start (it said {line!r})")
        self._port = int(line)
        return self

    def reset(self) -> None:
        """Forget every resource (a new account)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request) as response:
            response.read()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait()
            self._process = None


def serve() -> None:
    """Serve moto on a free port of 127.0.0.1, one request at a time (HTTP/1.0: a connection per call)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from sluice.local.alarm_state import install_composite_alarms
    from sluice.local.cloudwatch import install_percentiles

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """No access log line per API call."""

    install_percentiles()  # as `sluice local` does for its own server
    install_composite_alarms()
    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=False,
                         request_handler=QuietHandler)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve()
