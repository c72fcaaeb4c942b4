"""The predict endpoint: V1 JSON in and out; bad requests get a 4xx with a message, never a 5xx."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from sluice.demo import samples
from sluice.local.http import EndpointServer

MODEL = "breast-cancer"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deployed() -> Iterator[Any]:
    from sluice.local import LocalCloud
    from tests.conftest import CONFIG, REPO

    with LocalCloud(CONFIG, functions_dir=REPO / "functions") as cloud:
        cloud.drop(samples.BREAST_CANCER, MODEL)
        cloud.run_until_idle()
        yield cloud


def _post(cloud: Any, path: str, body: Any, method: str = "POST") -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = cloud.http(method, path, raw, {"Content-Type": "application/json"})
    return response.status, response.body


def test_predictions_come_with_the_model_version_and_probabilities(deployed: Any) -> None:
    features, _ = samples.instances(samples.BREAST_CANCER, "diagnosis", 2)
    status, body = _post(deployed, f"/v1/models/{MODEL}:predict", {"instances": features})
    assert status == 200 and body["model_version"] == "1" and len(body["predictions"]) == 2
    assert set(body["probabilities"][0]) == {"malignant", "benign"}


def test_metadata_describes_the_inputs(deployed: Any) -> None:
    status, body = _post(deployed, f"/v1/models/{MODEL}", b"", method="GET")
    assert status == 200 and body["ready"] is True and len(body["inputs"]) == 30


@pytest.mark.parametrize(("path", "body", "method", "status", "message"), [
    (f"/v1/models/{MODEL}:predict", b"{not json", "POST", 400, "not valid JSON"),
    (f"/v1/models/{MODEL}:predict", b"", "POST", 400, "body is empty"),
    (f"/v1/models/{MODEL}:predict", {"rows": []}, "POST", 400, "instances"),
    (f"/v1/models/{MODEL}:predict", {"instances": []}, "POST", 400, "instances"),
    (f"/v1/models/{MODEL}:predict", {"instances": [{"mean_radius": 1.0}]}, "POST", 400, "missing"),
    (f"/v1/models/{MODEL}:predict", {"instances": ["row"]}, "POST", 400, "instance"),
    (f"/v1/models/{MODEL}:predict", {"instances": {}}, "GET", 405, "POST"),
    ("/v1/models/unknown:predict", {"instances": []}, "POST", 404, "no model"),
    ("/admin", {}, "POST", 404, "no model"),
])
def test_bad_requests_get_a_clear_4xx(deployed: Any, path: str, body: Any, method: str, status: int,
                                      message: str) -> None:
    got, document = _post(deployed, path, body, method)
    assert got == status and message in document["error"]


def test_a_wrong_type_names_the_instance_and_the_feature(deployed: Any) -> None:
    features, _ = samples.instances(samples.BREAST_CANCER, "diagnosis", 2)
    features[1]["mean_texture"] = "abc"
    status, body = _post(deployed, f"/v1/models/{MODEL}:predict", {"instances": features})
    # the demo model flags contract violations (serving.on_violation = "flag"): answered, with the violation named
    assert status == 200 and body["violations"] == [
        {"instance": 1, "column": "mean_texture", "rule": "type", "reason": "'abc' cannot be read as float"}]


def test_before_any_deployment_the_endpoint_says_so(deployed: Any) -> None:
    features, _ = samples.instances(samples.DIABETES, "progression", 1)
    status, body = _post(deployed, "/v1/models/diabetes:predict", {"instances": features})
    assert status == 503 and "no version" in body["error"]


def test_the_local_http_server_speaks_the_protocol(deployed: Any) -> None:
    server = EndpointServer(deployed).start()
    try:
        features, _ = samples.instances(samples.BREAST_CANCER, "diagnosis", 1)
        request = urllib.request.Request(f"{server.url}/v1/models/{MODEL}:predict", method="POST",
                                         data=json.dumps({"instances": features}).encode())
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200 and json.loads(response.read())["model_version"] == "1"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(f"{server.url}/v1/models/{MODEL}:predict",
                                                          method="POST", data=b"[1"), timeout=30)
        assert refused.value.code == 400
    finally:
        server.stop()
