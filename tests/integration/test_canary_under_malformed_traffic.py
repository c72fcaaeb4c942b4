"""A burst of malformed requests during a canary is the callers' error: the release is neither aborted nor rolled back.

Issue 14 showed 60 nested-array requests during a 10 % canary rolling it back ("error rate 69.23 % vs live
47.66 %"): each one made the predict function raise, which Lambda counts as an error of the version that served
it. Now each is a 400 answer, and the bake check and the errors alarm count only server faults.
"""

from __future__ import annotations

from typing import Any

import pytest

from sluice.demo import samples
from sluice.deployment.metrics import CloudWatchVariantMetrics, Variant
from sluice.registry import Status
from tests.integration.releases import MODEL, approved, check, deploy, events, live_with, registry_of, traffic, weights

pytestmark = pytest.mark.slow
CANARY = {"strategy": "canary", "canary_weight": 0.2, "bake_minutes": 10, "checks": {"min_requests": 5}}


def malformed_bodies(feature_names: list[str]) -> list[bytes]:
    """The hostile requests of issue 14 that used to fail the function, plus plainly broken ones."""
    def row(value: str) -> bytes:
        fields = ", ".join(f'"{name}": {value}' for name in feature_names)
        return ('{"instances": [{' + fields + "}]}").encode()

    return [
        b"[" * 1000 + b"]" * 1000,  # RecursionError in json.loads
        row("1e38"),  # features so large the model's output may not be finite
        row("9" * 4301),  # beyond Python's int-string limit
        row('"\\ud800"'),  # a lone surrogate
        row("NaN"),
        b'{"instances": [{"x": 1}]}',
        b"{not json",
        b"\xff\xfe\x00",
    ]


def test_a_burst_of_malformed_requests_neither_aborts_the_canary_nor_counts_as_errors(
        stack: Any, trained: Any) -> None:
    # GIVEN v1 live and a healthy v2 on a 20 % canary
    cloud = stack(breast_cancer=CANARY)
    registry = registry_of(cloud)
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    deploy(cloud, MODEL, v2)
    assert weights(cloud, MODEL) == ("1", {"2": 0.2})
    started = cloud.now()
    answered = traffic(cloud, MODEL, 40)
    # WHEN a burst of malformed requests arrives during the bake (routed to both versions like any request)
    features, _ = samples.instances(samples.BREAST_CANCER, "diagnosis", 1)
    bodies = malformed_bodies(list(features[0])) * 10
    served_by: dict[str, int] = {}
    for body in bodies:
        response = cloud.http("POST", f"/v1/models/{MODEL}:predict", body, {"Content-Type": "application/json"})
        # THEN each is answered below 500 (a 4xx with a message, or scored if the model can), never a fault
        assert response.status < 500, (response.status, body[:80])
        assert response.status == 200 or response.body["error"]
        assert response.lambda_version in {"1", "2"}
        served_by[response.lambda_version] = served_by.get(response.lambda_version, 0) + 1
    assert served_by.get("2", 0) > 0 and served_by.get("1", 0) > 0, served_by
    # AND neither version has a single error or server fault in what the bake check and the alarm read
    reader = CloudWatchVariantMetrics(cloud.clients.cloudwatch)
    function = cloud.settings.names.predict_function(MODEL)
    for version in ("1", "2"):
        stats = reader.read(Variant(MODEL, function, int(version), version), started - 60, cloud.now() + 60)
        assert stats.errors == 0 and stats.requests == answered[version] + served_by.get(version, 0), stats
    # WHEN the bake ends and the deployment check runs
    cloud.advance(10)
    result = check(cloud, MODEL)
    # THEN v2 is promoted as healthy: nothing aborted, nothing rolled back
    assert result["outcome"] == "promoted" and result["verdict"] == "healthy", result
    assert registry.get_version(MODEL, v2).status is Status.LIVE
    assert events(cloud, "DeploymentAborted") == [] and events(cloud, "ModelRolledBack") == []
    assert weights(cloud, MODEL) == ("2", {})
    assert not [entry for entry in cloud.timeline if entry.kind == "error"]



class Failing:
    """A served model that fails unexpectedly on every request (a bug, not the caller's error)."""

    def __init__(self, signature: Any) -> None:
        self.signature = signature

    def predict(self, instances: list[dict[str, Any]]) -> Any:
        raise RuntimeError("the runtime fell over")


def test_a_canary_answering_500_is_aborted_on_its_server_faults(stack: Any, trained: Any) -> None:
    # GIVEN v1 live and a canary v2 whose warm container fails every request unexpectedly (fault injected into
    # the loaded predict module: the handler answers 500 instead of raising, so Lambda counts no error)
    cloud = stack(breast_cancer=CANARY)
    registry = registry_of(cloud)
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    deploy(cloud, MODEL, v2)
    assert traffic(cloud, MODEL, 30)["2"] > 0  # both versions' containers are warm
    (candidate,) = [module for module in cloud._host._modules.values()
                    if getattr(getattr(module, "pinned_model", None), "version", None) == v2]
    candidate.service._model = Failing(candidate.service._model.signature)
    # WHEN traffic flows
    answered = traffic(cloud, MODEL, 60)
    # THEN v2's requests are answered 500 (with a request id), never a function error
    assert answered["HTTP 500"] > 0 and "2" not in answered and "HTTP 502" not in answered
    assert not [entry for entry in cloud.timeline if entry.kind == "error"]
    # AND at the end of the bake the check counts them as v2's errors and aborts the release
    cloud.advance(10)
    result = check(cloud, MODEL)
    assert result["outcome"] == "aborted" and "vs live 0.00%" in result["reason"], result
    assert result["candidate"]["errors"] == answered["HTTP 500"]
    assert registry.get_version(MODEL, v2).status is Status.ROLLED_BACK
    assert weights(cloud, MODEL) == ("1", {})
