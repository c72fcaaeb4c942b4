"""kserve's own Python client (V1 protocol) against the local endpoint: liveness, readiness, inference, errors.

The KServe V1 data plane (https://kserve.github.io/website/docs/concepts/architecture/data-plane/v1-protocol):
``GET /`` answers ``{"status": "alive"}``, ``GET /v1/models/<model>`` answers ``{"name": ..., "ready": true|false}``
and ``POST /v1/models/<model>:predict`` takes ``{"instances": [...]}`` and answers ``{"predictions": [...]}``.
kserve is installed by `make install` without its server dependencies (see the Makefile).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from sluice.demo import samples
from sluice.local.http import EndpointServer
from tests.integration.releases import MODEL, live_with

kserve = pytest.importorskip("kserve", reason="kserve's client is installed by `make install` (--no-deps)")
httpx = pytest.importorskip("httpx")
pytestmark = pytest.mark.slow


@pytest.fixture
def endpoint(stack: Any) -> Iterator[tuple[Any, str]]:
    cloud = stack(breast_cancer={"strategy": "all_at_once"})
    server = EndpointServer(cloud).start()
    try:
        yield cloud, server.url
    finally:
        server.stop()


def _client() -> Any:
    return kserve.InferenceRESTClient(kserve.RESTConfig(protocol="v1", retries=0, timeout=120))


async def _ask(call: str, *args: Any, **kwargs: Any) -> Any:
    client = _client()
    try:
        return await getattr(client, call)(*args, **kwargs)
    finally:
        await client.close()


def test_kserve_sees_a_live_server_and_a_model_not_ready_before_its_first_release(
        endpoint: tuple[Any, str]) -> None:
    # GIVEN the local endpoint with nothing deployed yet
    _, url = endpoint
    # WHEN kserve's client asks for liveness and the model's readiness
    # THEN the server is live and the model is not ready
    assert asyncio.run(_ask("is_server_live", url)) is True
    assert asyncio.run(_ask("is_model_ready", url, MODEL)) is False


def test_kserve_reads_readiness_and_predicts_through_v1_once_a_version_is_live(
        endpoint: tuple[Any, str], trained: Any) -> None:
    # GIVEN v1 live
    cloud, url = endpoint
    live_with(cloud, trained[MODEL])
    features, _ = samples.instances(samples.BREAST_CANCER, "diagnosis", 2, start=3)
    # WHEN kserve's client checks readiness and sends a V1 inference request
    ready = asyncio.run(_ask("is_model_ready", url, MODEL))
    answer = asyncio.run(_ask("infer", url, {"instances": features}, model_name=MODEL))
    # THEN the model is ready and the answer is V1: one prediction per instance
    assert ready is True
    assert len(answer["predictions"]) == 2 and answer["model_version"] == "1"
    assert set(answer["predictions"]) <= {"benign", "malignant"}


def test_kserve_gets_the_endpoints_message_for_a_bad_request_and_an_unknown_model(
        endpoint: tuple[Any, str], trained: Any) -> None:
    # GIVEN v1 live
    cloud, url = endpoint
    live_with(cloud, trained[MODEL])
    # WHEN kserve's client sends an instance without features, and asks for a model that is not served
    with pytest.raises(httpx.HTTPStatusError) as bad:
        asyncio.run(_ask("infer", url, {"instances": [{"no such feature": 1}]}, model_name=MODEL))
    with pytest.raises(httpx.HTTPStatusError) as unknown:
        asyncio.run(_ask("is_model_ready", url, "no-such-model"))
    # THEN each is a 4xx whose message kserve shows is the endpoint's own
    assert bad.value.response.status_code == 400 and "instance 0" in str(bad.value)
    assert unknown.value.response.status_code == 404 and "no model at" in str(unknown.value)
