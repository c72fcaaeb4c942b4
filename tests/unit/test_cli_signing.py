"""`sluice predict` signs with SigV4 for a deployed Function URL (AWS_IAM auth) and sends nothing extra to loopback.

AWS: Function URLs with AuthType AWS_IAM need SigV4 for service ``lambda``
(docs.aws.amazon.com/lambda/latest/dg/urls-auth.html); the signature covers method, path, signed headers and a
SHA-256 of the body (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
"""

from __future__ import annotations

import datetime
import http.server
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from typer.testing import CliRunner

from sluice.cli import signing
from sluice.cli.app import app
from sluice.cli.errors import UsageError
from tests.conftest import CONFIG

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
NOW = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)
FUNCTION_URL = "https://abcdefghij0123456789klmnopqrstuv.lambda-url.eu-west-1.on.aws/"
AUTHORIZATION = re.compile(r"^AWS4-HMAC-SHA256 Credential=(?P<scope>\S+), SignedHeaders=(?P<signed>[a-z0-9;-]+), "
                           r"Signature=(?P<signature>[0-9a-f]{64})$")


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))


def _recomputed(method: str, url: str, body: bytes, headers: dict[str, str], region: str) -> str:
    """The signature botocore computes for the request as sent (the Authorization header left out)."""
    request = AWSRequest(method=method, url=url, data=body,
                         headers={k: v for k, v in headers.items() if k.lower() != "authorization"})
    request.context["timestamp"] = headers["X-Amz-Date"]
    auth = SigV4Auth(CREDENTIALS, "lambda", region)
    return str(auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request))


def test_a_signed_request_carries_a_valid_signature_of_its_body(fixed_clock: None) -> None:
    # GIVEN fixed credentials and a fixed clock WHEN a predict request to a Function URL is signed
    url, body = f"{FUNCTION_URL}v1/models/breast-cancer:predict", b'{"instances": [{"mean_radius": 14.1}]}'
    headers = signing.signed_headers("POST", url, body, {"Content-Type": "application/json"},
                                     credentials=CREDENTIALS, region="eu-west-1")
    # THEN it carries the date and an Authorization header scoped to lambda in the region, content-type signed
    assert headers["X-Amz-Date"] == "20260304T050607Z"
    parts = AUTHORIZATION.match(headers["Authorization"])
    assert parts is not None, headers["Authorization"]
    assert parts["scope"] == "AKIDEXAMPLE/20260304/eu-west-1/lambda/aws4_request"
    assert {"content-type", "host", "x-amz-date"} <= set(parts["signed"].split(";"))
    # AND the signature is the one recomputed for this body, and not the one for any other body
    assert parts["signature"] == _recomputed("POST", url, body, headers, "eu-west-1")
    assert parts["signature"] != _recomputed("POST", url, body + b" ", headers, "eu-west-1")


def test_temporary_credentials_send_and_sign_their_session_token(fixed_clock: None) -> None:
    # GIVEN temporary credentials (SSO, an assumed role) WHEN a request is signed
    temporary = Credentials(CREDENTIALS.access_key, CREDENTIALS.secret_key, token="FQoGZXIvYXdzEXAMPLETOKEN")
    headers = signing.signed_headers("POST", FUNCTION_URL, b"{}", {}, credentials=temporary, region="eu-west-1")
    # THEN the token travels in X-Amz-Security-Token, and that header is among the signed ones
    parts = AUTHORIZATION.match(headers["Authorization"])
    assert headers["X-Amz-Security-Token"] == "FQoGZXIvYXdzEXAMPLETOKEN"
    assert parts is not None and "x-amz-security-token" in parts["signed"].split(";")


def test_loopback_is_unsigned_and_aws_is_signed_in_the_urls_region() -> None:
    class Session:
        region_name = "us-west-2"

        def get_credentials(self) -> Any:
            return CREDENTIALS

    plain = {"Content-Type": "application/json"}
    for local in ("http://127.0.0.1:8080/v1/models/m:predict", "http://localhost:8080/", "http://[::1]:80/"):
        assert signing.request_headers("POST", local, b"{}", plain, Session()) == plain
    # the Function URL names its region; another host takes the profile's
    scope = signing.request_headers("POST", FUNCTION_URL, b"{}", plain, Session())["Authorization"]
    assert "/eu-west-1/lambda/aws4_request" in scope
    scope = signing.request_headers("POST", "https://api.example.com/", b"{}", plain, Session())["Authorization"]
    assert "/us-west-2/lambda/aws4_request" in scope


def test_without_credentials_or_region_it_says_what_to_configure() -> None:
    class Bare:
        region_name = None

        def get_credentials(self) -> Any:
            return None

    with pytest.raises(UsageError, match="no region"):
        signing.request_headers("POST", "https://api.example.com/", b"{}", {}, Bare())
    with pytest.raises(UsageError, match="no AWS credentials"):
        signing.request_headers("POST", FUNCTION_URL, b"{}", {}, Bare())


@pytest.fixture
def aws_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project folder whose endpoint is named by SLUICE_ENDPOINT_URL alone (no `sluice local`, no other SLUICE_*
    variable: calling a deployed endpoint needs only its URL and AWS credentials)."""
    (tmp_path / "sluice.toml").write_text(CONFIG.read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in [name for name in os.environ if name.startswith(("SLUICE_", "AWS_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS.secret_key)


def test_sluice_predict_signs_its_request_to_a_function_url(aws_endpoint: None, fixed_clock: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a deployed endpoint (a Function URL) and credentials in the environment
    monkeypatch.setenv("SLUICE_ENDPOINT_URL", FUNCTION_URL)
    sent: list[Any] = []

    class Answer:
        status = 200

        def read(self) -> bytes:
            return b'{"predictions": ["benign"]}'

        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr("urllib.request.urlopen", lambda request, timeout: sent.append(request) or Answer())
    # WHEN sluice predict is run
    result = CliRunner().invoke(app, ["predict", "breast-cancer", "-i", '[{"mean_radius": 14.1}]', "--json"])
    # THEN the request it sent is signed for exactly what it sent
    assert result.exit_code == 0, result.output
    request = sent[0]
    headers = {name.title(): value for name, value in request.header_items()}
    url, body = request.full_url, request.data
    assert url == f"{FUNCTION_URL}v1/models/breast-cancer:predict"
    signature = AUTHORIZATION.match(headers["Authorization"])
    assert signature is not None
    assert signature["signature"] == _recomputed("POST", url, body, headers, "eu-west-1")


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        self.seen.append(dict(self.headers.items()))
        self.rfile.read(int(self.headers["Content-Length"]))
        answer = json.dumps({"predictions": ["benign"], "model_version": "1"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def loopback_endpoint() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_sluice_predict_sends_no_signature_to_a_local_endpoint(aws_endpoint: None, loopback_endpoint: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an endpoint on loopback (as `sluice local` serves) WHEN sluice predict asks it
    monkeypatch.setenv("SLUICE_ENDPOINT_URL", loopback_endpoint)
    _Recorder.seen.clear()
    result = CliRunner().invoke(app, ["predict", "breast-cancer", "-i", '[{"mean_radius": 14.1}]', "--json"])
    # THEN it is answered, and the request carried no SigV4 headers
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["predictions"] == ["benign"]
    assert len(_Recorder.seen) == 1
    assert not {"authorization", "x-amz-date", "x-amz-security-token"} & {h.lower() for h in _Recorder.seen[0]}
