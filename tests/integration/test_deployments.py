"""Release strategies end to end on the local stack, with the clock advanced instead of slept:
canary, linear, A/B and shadow; the measured traffic split; one release per model at a time."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from sluice.deployment import signals
from sluice.registry import DeploymentInProgressError, Status
from tests.integration.releases import (
    MODEL,
    OTHER,
    approved,
    check,
    deploy,
    events,
    live_with,
    notifications,
    registry_of,
    traffic,
    weights,
)

pytestmark = pytest.mark.slow
CANARY = {"strategy": "canary", "canary_weight": 0.2, "bake_minutes": 10, "checks": {"min_requests": 5}}


def test_a_healthy_canary_is_promoted_after_its_bake(stack: Any, trained: Any) -> None:
    # GIVEN v1 live and the canary policy (20% for 10 minutes)
    cloud = stack(breast_cancer=CANARY)
    registry = registry_of(cloud)
    live_with(cloud, trained[MODEL])
    # WHEN an approved v2 arrives
    v2 = approved(cloud, trained[MODEL])
    started = deploy(cloud, MODEL, v2)
    # THEN it is a canary: alias live keeps v1 and gives v2 a 20% weight
    assert started["outcome"] == "release_started" and started["weight"] == 0.2
    assert registry.get_version(MODEL, v2).status is Status.CANARY
    assert weights(cloud, MODEL) == ("1", {"2": 0.2})
    answered = traffic(cloud, MODEL, 60)
    assert set(answered) == {"1", "2"}
    # WHEN the check runs before the bake is over THEN nothing changes
    assert check(cloud, MODEL)["outcome"] == "baking"
    # WHEN the bake time has passed and the check runs
    cloud.advance(10)
    result = check(cloud, MODEL)
    # THEN the check compared v2 with v1 per version and promoted v2
    assert result["outcome"] == "promoted", result
    assert result["candidate"]["requests"] == answered["2"] and result["live"]["requests"] == answered["1"]
    assert result["candidate"]["score_mean"] is not None and result["verdict"] == "healthy"
    assert registry.get_alias(MODEL, "live").version == v2  # type: ignore[union-attr]
    assert registry.get_version(MODEL, 1).status is Status.PREVIOUS
    assert weights(cloud, MODEL) == ("2", {})
    assert registry.get_deployment(MODEL) is None
    assert set(traffic(cloud, MODEL, 5)) == {"2"}
    # AND the audit trail and the notifications tell the story
    changes = [(entry.subject, entry.change) for entry in registry.history(MODEL)]
    assert ("v2", "approved → canary") in changes and ("v2", "canary → live") in changes
    assert any("promoted" in subject for subject in notifications(cloud))


def test_a_failing_canary_is_aborted_and_live_keeps_all_traffic(stack: Any, trained: Any) -> None:
    # GIVEN v1 live and a canary v2 whose model file is damaged (it cannot load: every request errors)
    cloud = stack(breast_cancer=CANARY)
    registry = registry_of(cloud)
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL], corrupt=True)
    deploy(cloud, MODEL, v2)
    answered = traffic(cloud, MODEL, 60)
    assert answered["HTTP 502"] > 0 and "2" not in answered
    # WHEN the bake ends
    cloud.advance(10)
    result = check(cloud, MODEL)
    # THEN the check aborted with the reason, v2 is rolled back and v1 serves everything again
    assert result["outcome"] == "aborted" and "error rate 100.00%" in result["reason"]
    assert registry.get_version(MODEL, v2).status is Status.ROLLED_BACK
    assert weights(cloud, MODEL) == ("1", {})
    assert traffic(cloud, MODEL, 10) == Counter({"1": 10})
    (aborted,) = events(cloud, "DeploymentAborted")
    assert aborted["version"] == v2 and "bake check failed" in aborted["reason"]


def test_linear_shifts_in_steps_then_promotes(stack: Any, trained: Any) -> None:
    # GIVEN the linear policy: +25% every 5 minutes
    cloud = stack(breast_cancer={"strategy": "linear", "linear_step": 0.25, "interval_minutes": 5,
                                 "checks": {"min_requests": 3}})
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    deploy(cloud, MODEL, v2)
    seen = [weights(cloud, MODEL)[1]]
    # WHEN traffic flows and each interval's check passes
    outcomes = []
    for _ in range(3):
        traffic(cloud, MODEL, 60)
        cloud.advance(5)
        outcomes.append(check(cloud, MODEL)["outcome"])
        seen.append(weights(cloud, MODEL)[1])
    # THEN the weights went 25% → 50% → 75% → promoted
    assert outcomes == ["advanced", "advanced", "promoted"]
    assert seen == [{"2": 0.25}, {"2": 0.5}, {"2": 0.75}, {}]
    assert [event["stage"] for event in events(cloud, "DeploymentProgressed")] == ["linear 50%", "linear 75%"]
    assert registry_of(cloud).get_alias(MODEL, "live").version == v2  # type: ignore[union-attr]


@pytest.mark.parametrize(("candidate_ms", "outcome"), [(200.0, "aborted"), (60.0, "promoted")])
def test_a_canary_is_judged_on_the_p99_its_requests_took(stack: Any, trained: Any, candidate_ms: float,
                                                          outcome: str) -> None:
    # GIVEN v1 live answering in 20 ms and a canary v2 whose every request takes ``candidate_ms``
    # (the default checks: slower than 1.5 x live AND by more than 50 ms fails)
    cloud = stack(breast_cancer=CANARY)
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    cloud.meter.set(MODEL, 1, latency_ms=20.0)
    cloud.meter.set(MODEL, v2, latency_ms=candidate_ms)
    deploy(cloud, MODEL, v2)
    traffic(cloud, MODEL, 60)
    # WHEN the bake ends
    cloud.advance(10)
    result = check(cloud, MODEL)
    # THEN the p99 read back from CloudWatch is each version's own, and decides: 200 ms (+180) aborts,
    # 60 ms (+40, within the 50 ms slack) is noise and promotes
    assert result["outcome"] == outcome, result
    assert result["candidate"]["latency_p99_ms"] == candidate_ms and result["live"]["latency_p99_ms"] == 20.0
    assert f"p99 {candidate_ms:.1f} ms vs live 20.0 ms" in " ".join(result["reasons"])
    expected = Status.ROLLED_BACK if outcome == "aborted" else Status.LIVE
    assert registry_of(cloud).get_version(MODEL, v2).status is expected


def test_a_canary_failing_one_request_in_ten_is_aborted_on_its_error_rate(stack: Any, trained: Any) -> None:
    # GIVEN a canary v2 of which every tenth request fails (injected: Lambda answers 502 and counts an error)
    cloud = stack(breast_cancer=CANARY)
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    cloud.meter.set(MODEL, v2, error_rate=0.1)
    deploy(cloud, MODEL, v2)
    answered = traffic(cloud, MODEL, 120)
    # THEN users saw exactly those failures, and only from v2
    failed = answered["HTTP 502"]
    assert failed == (answered["2"] + failed) // 10 and failed > 0
    # WHEN the bake ends
    cloud.advance(10)
    result = check(cloud, MODEL)
    # THEN the check counted the same errors for v2, none for v1, and aborted (more than +1 point)
    assert result["outcome"] == "aborted", result
    assert result["candidate"]["errors"] == failed and result["candidate"]["requests"] == answered["2"] + failed
    assert result["live"]["errors"] == 0 and "error rate" in result["reason"]
    assert registry_of(cloud).get_version(MODEL, v2).status is Status.ROLLED_BACK


def test_a_linear_release_that_slows_down_mid_way_is_aborted_at_that_stage(stack: Any, trained: Any) -> None:
    # GIVEN a linear release (+25% every 5 minutes) of a v2 as fast as v1
    cloud = stack(breast_cancer={"strategy": "linear", "linear_step": 0.25, "interval_minutes": 5,
                                 "checks": {"min_requests": 3}})
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    deploy(cloud, MODEL, v2)
    traffic(cloud, MODEL, 60)
    cloud.advance(5)
    assert check(cloud, MODEL)["outcome"] == "advanced"
    # WHEN v2's requests take 400 ms during the second stage (v1 stays at 20 ms)
    cloud.meter.set(MODEL, v2, latency_ms=400.0)
    traffic(cloud, MODEL, 60)
    cloud.advance(5)
    result = check(cloud, MODEL)
    # THEN the second check (over the second stage only) aborts, and live takes all traffic back
    assert result["outcome"] == "aborted" and "p99 400.0 ms vs live 20.0 ms" in result["reason"], result
    assert weights(cloud, MODEL) == ("1", {})


def test_an_ab_test_on_latency_keeps_live_when_the_candidate_is_slower_than_the_margin(
        stack: Any, trained: Any) -> None:
    # GIVEN an A/B test decided on latency p99 with a 5 ms margin; v1 answers in 20 ms, v2 in 30 ms
    cloud = stack(breast_cancer={"strategy": "ab", "ab_split": 0.5, "ab_minutes": 60, "ab_metric": "latency_p99",
                                 "ab_margin": 5, "checks": {"min_requests": 5}})
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    cloud.meter.set(MODEL, v2, latency_ms=30.0)
    deploy(cloud, MODEL, v2)
    traffic(cloud, MODEL, 80)
    # WHEN the test ends
    cloud.advance(60)
    result = check(cloud, MODEL)
    # THEN live won on the measured p99s (the bake check itself passed: +10 ms is within its slack)
    assert result["outcome"] == "rejected", result
    assert "p99 30.0 ms vs live 20.0 ms: worse by more than the margin 5" in result["reason"]
    assert events(cloud, "AbTestConcluded")[0]["winner"] == "live"
    assert registry_of(cloud).get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]


def test_an_ab_test_reports_per_variant_and_promotes_the_winner(stack: Any, trained: Any) -> None:
    # GIVEN an A/B policy: 50/50 for 60 minutes, decided on the error rate
    cloud = stack(breast_cancer={"strategy": "ab", "ab_split": 0.5, "ab_minutes": 60, "ab_metric": "error_rate",
                                 "checks": {"min_requests": 5}})
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    deploy(cloud, MODEL, v2)
    answered = traffic(cloud, MODEL, 80)
    # WHEN the test ends
    cloud.advance(60)
    result = check(cloud, MODEL)
    # THEN a per-variant report is stored and announced, and the candidate won (not worse on errors)
    assert result["outcome"] == "promoted", result
    (concluded,) = events(cloud, "AbTestConcluded")
    report = json.loads(cloud.clients.s3.get_object(Bucket=cloud.settings.artifact_bucket,
                                                    Key=concluded["report_key"])["Body"].read())
    assert report["winner"] == "candidate" and report["metric"] == "error_rate"
    assert report["variants"]["candidate"]["requests"] == answered["2"]
    assert report["variants"]["live"]["requests"] == answered["1"]
    assert registry_of(cloud).get_alias(MODEL, "live").version == v2  # type: ignore[union-attr]


def test_an_ab_test_lost_on_live_accuracy_rejects_the_candidate(stack: Any, trained: Any) -> None:
    # GIVEN an A/B test decided on live accuracy (published by monitoring from feedback)
    cloud = stack(breast_cancer={"strategy": "ab", "ab_split": 0.5, "ab_minutes": 30, "ab_metric": "live_accuracy",
                                 "ab_margin": 0.01, "checks": {"min_requests": 5}})
    registry = registry_of(cloud)
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    deploy(cloud, MODEL, v2)
    traffic(cloud, MODEL, 40)
    for version, accuracy in (("1", 0.95), ("2", 0.90)):
        cloud.clients.cloudwatch.put_metric_data(Namespace=signals.NAMESPACE, MetricData=[{
            "MetricName": signals.LIVE_ACCURACY, "Value": accuracy,
            "Dimensions": [{"Name": "model", "Value": MODEL}, {"Name": "version", "Value": version}],
            "Timestamp": datetime.fromtimestamp(cloud.advance(1), tz=UTC)}])
    # WHEN the test ends
    cloud.advance(30)
    result = check(cloud, MODEL)
    # THEN live won: the candidate is rejected with the measured reason, and live serves everything
    assert result["outcome"] == "rejected" and "live accuracy 0.900 vs live 0.950" in result["reason"]
    assert registry.get_version(MODEL, v2).status is Status.REJECTED
    assert registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    assert weights(cloud, MODEL) == ("1", {})
    assert events(cloud, "AbTestConcluded")[0]["winner"] == "live"


def test_a_shadow_release_scores_mirrored_traffic_that_users_never_see(stack: Any, trained: Any) -> None:
    # GIVEN a shadow policy (30 minutes)
    cloud = stack(breast_cancer={"strategy": "shadow", "shadow_minutes": 30, "checks": {"min_requests": 5}})
    registry = registry_of(cloud)
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    assert deploy(cloud, MODEL, v2)["weight"] == 0.0
    cloud.advance(1)  # past the predict function's release-record cache
    # WHEN users send requests
    answered = traffic(cloud, MODEL, 20)
    # THEN only live answered them, and alias live carries no weight for the shadow
    assert answered == Counter({"1": 20})
    assert weights(cloud, MODEL) == ("1", {})
    # WHEN the shadow period ends
    cloud.advance(30)
    result = check(cloud, MODEL)
    # THEN the shadow's answers to the same 20 requests were recorded and compared: it agreed, so it is promoted
    assert result["outcome"] == "promoted", result
    assert result["candidate"]["requests"] == 20 and result["candidate"]["agreement"] == 1.0
    assert result["candidate"]["scores"] == result["live"]["scores"] == 60
    report = json.loads(cloud.clients.s3.get_object(
        Bucket=cloud.settings.artifact_bucket, Key=f"models/{MODEL}/{v2:06d}/shadow-report.json")["Body"].read())
    assert report["shadow"]["agreement"] == 1.0
    assert registry.get_alias(MODEL, "live").version == v2  # type: ignore[union-attr]


def test_too_little_traffic_extends_the_bake_instead_of_promoting(stack: Any, trained: Any) -> None:
    cloud = stack(breast_cancer={**CANARY, "checks": {"min_requests": 50}})
    live_with(cloud, trained[MODEL])
    v2 = approved(cloud, trained[MODEL])
    deploy(cloud, MODEL, v2)
    cloud.advance(10)
    result = check(cloud, MODEL)
    assert result["outcome"] == "extended" and "0 of the 50 requests" in result["reason"]
    assert registry_of(cloud).get_version(MODEL, v2).status is Status.CANARY


@pytest.mark.parametrize("weight", [0.1, 0.25])
def test_the_traffic_split_over_10000_requests_is_within_one_point(stack: Any, trained: Any, weight: float) -> None:
    # GIVEN a canary at ``weight`` (the alias as the endpoint reads it)
    cloud = stack(breast_cancer={**CANARY, "canary_weight": weight})
    live_with(cloud, trained[MODEL])
    deploy(cloud, MODEL, approved(cloud, trained[MODEL]))
    alias = cloud.live_alias(cloud.settings.names.predict_function(MODEL))
    # WHEN the endpoint's router routes 10,000 requests (the router alone: the handler is not needed to count)
    routed = Counter(cloud.router.choose(alias) for _ in range(10_000))
    # THEN the candidate's share is within 1 percentage point of its weight
    share = routed["2"] / 10_000
    print(f"canary weight {weight:.2f}: measured {share:.4f} over 10,000 routed requests")
    assert abs(share - weight) <= 0.01


def test_one_release_per_model_the_next_is_queued_and_models_are_independent(stack: Any, trained: Any) -> None:
    # GIVEN both models live, both on canary
    cloud = stack(breast_cancer=CANARY, diabetes=CANARY)
    registry = registry_of(cloud)
    live_with(cloud, trained[MODEL])
    live_with(cloud, trained[OTHER])
    v2, v3 = approved(cloud, trained[MODEL]), approved(cloud, trained[MODEL])
    # WHEN two versions of one model are approved at once, and one of the other model
    first, second = deploy(cloud, MODEL, v2), deploy(cloud, MODEL, v3)
    other = deploy(cloud, OTHER, approved(cloud, trained[OTHER]))
    # THEN one proceeds, the other waits with a clear reason; the other model's release is independent
    assert first["outcome"] == "release_started" and other["outcome"] == "release_started"
    assert second["outcome"] == "queued" and "canary of breast-cancer v2 (stage 1/1) is in progress" in second["reason"]
    assert events(cloud, "DeploymentQueued")[0]["behind_version"] == v2
    assert registry.get_version(MODEL, v3).status is Status.APPROVED
    # AND a second release can never be recorded while one is in progress
    active = registry.get_deployment(MODEL)
    assert active is not None
    with pytest.raises(DeploymentInProgressError, match="in progress"):
        registry.start_deployment(active.__class__(**{**active.__dict__, "version": v3}), reason="r",
                                  actor="test")
    # WHEN the first release's bake ends
    traffic(cloud, MODEL, 60)
    cloud.advance(10)
    ended = check(cloud, MODEL)
    # THEN v2 is promoted and the queued v3 starts its own canary against v2
    assert ended["outcome"] == "promoted"
    assert registry.get_version(MODEL, v3).status is Status.CANARY
    assert weights(cloud, MODEL) == ("2", {"3": 0.2})
    assert registry.get_deployment(OTHER) is not None  # diabetes still baking, untouched
