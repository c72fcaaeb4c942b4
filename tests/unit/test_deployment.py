"""Release logic, pure: plans, the bake verdict, the next move, the A/B rule, the config, the state machine."""

from __future__ import annotations

import pytest

from sluice.config import ConfigError, DeploymentSettings, ReleaseChecks, load_config_text
from sluice.config.deployment import parse_deployment
from sluice.config.reader import Table
from sluice.deployment import Action, Health, VariantStats, decide, decide_ab, judge, plan
from sluice.deployment.signals import agreement, prediction_scores
from sluice.registry import (
    Deployment,
    DeploymentInProgressError,
    IllegalTransitionError,
    InMemoryRegistry,
    Status,
    check_transition,
)

CHECKS = ReleaseChecks(min_requests=10)
LIVE = VariantStats(requests=900, errors=0, latency_p99_ms=20.0, score_mean=0.40, scores=900)


def test_plans_of_each_strategy() -> None:
    assert plan(DeploymentSettings()) == ()
    (canary,) = plan(DeploymentSettings(strategy="canary", canary_weight=0.1, bake_minutes=10))
    assert (canary.weight, canary.minutes) == (0.1, 10)
    linear = plan(DeploymentSettings(strategy="linear", linear_step=0.25, interval_minutes=5))
    assert [stage.weight for stage in linear] == [0.25, 0.5, 0.75]
    assert [stage.weight for stage in plan(DeploymentSettings(strategy="linear", linear_step=0.4))] == [0.4, 0.8]
    assert plan(DeploymentSettings(strategy="ab", ab_split=0.3))[0].weight == 0.3
    assert plan(DeploymentSettings(strategy="shadow"))[0].weight == 0.0


@pytest.mark.parametrize(("candidate", "health", "words"), [
    (VariantStats(requests=100, errors=0, latency_p99_ms=22.0, score_mean=0.41), Health.HEALTHY, "error rate"),
    (VariantStats(requests=100, errors=5, latency_p99_ms=22.0, score_mean=0.41), Health.UNHEALTHY, "5.00%"),
    (VariantStats(requests=100, errors=0, latency_p99_ms=90.0, score_mean=0.41), Health.UNHEALTHY, "p99 90.0"),
    (VariantStats(requests=100, errors=0, latency_p99_ms=25.0, score_mean=0.41), Health.HEALTHY, "p99 25.0"),
    (VariantStats(requests=100, errors=0, latency_p99_ms=20.0, score_mean=0.65), Health.UNHEALTHY, "shift 0.250"),
    (VariantStats(requests=4, errors=0), Health.INCONCLUSIVE, "only 4 of the 10"),
])
def test_the_bake_verdict(candidate: VariantStats, health: Health, words: str) -> None:
    verdict = judge(candidate, LIVE, CHECKS, relative_scores=False)
    assert verdict.health is health and words in verdict.summary


def test_latency_within_the_slack_is_noise_and_regression_shift_is_relative() -> None:
    # 3x slower but only +10 ms: noise on a fast endpoint
    fast = VariantStats(requests=100, latency_p99_ms=5.0)
    assert judge(VariantStats(requests=100, latency_p99_ms=15.0), fast, CHECKS,
                 relative_scores=False).health is Health.HEALTHY
    live = VariantStats(requests=100, score_mean=150.0)
    assert judge(VariantStats(requests=100, score_mean=160.0), live, CHECKS,
                 relative_scores=True).health is Health.HEALTHY
    assert judge(VariantStats(requests=100, score_mean=180.0), live, CHECKS,
                 relative_scores=True).health is Health.UNHEALTHY


def test_a_shadow_must_agree_with_live() -> None:
    shadow = VariantStats(requests=50, errors=0, score_mean=0.4, agreement=0.7)
    verdict = judge(shadow, LIVE, CHECKS, relative_scores=False, shadow=True)
    assert verdict.health is Health.UNHEALTHY and "agreement with live 70.0%" in verdict.summary


def test_the_next_move() -> None:
    healthy = judge(VariantStats(requests=100), VariantStats(requests=100), CHECKS, relative_scores=False)
    sick = judge(VariantStats(requests=100, errors=50), VariantStats(requests=100), CHECKS, relative_scores=False)
    thin = judge(VariantStats(requests=1), VariantStats(requests=100), CHECKS, relative_scores=False)
    assert decide(strategy="canary", stage=0, stages=1, due=False, verdict=None, extensions=0).action is Action.WAIT
    assert decide(strategy="canary", stage=0, stages=1, due=True, verdict=healthy, extensions=0).action \
        is Action.PROMOTE
    assert decide(strategy="linear", stage=0, stages=3, due=True, verdict=healthy, extensions=0).action \
        is Action.ADVANCE
    assert decide(strategy="ab", stage=0, stages=1, due=True, verdict=healthy, extensions=0).action \
        is Action.CONCLUDE
    assert decide(strategy="linear", stage=1, stages=3, due=True, verdict=sick, extensions=0).action is Action.ABORT
    assert decide(strategy="canary", stage=0, stages=1, due=True, verdict=thin, extensions=0).action is Action.EXTEND
    assert decide(strategy="canary", stage=0, stages=1, due=True, verdict=thin, extensions=6).action is Action.ABORT


def test_the_ab_rule_is_non_inferiority_and_inconclusive_keeps_live() -> None:
    live = VariantStats(requests=100, errors=2, live_accuracy=0.95)
    assert decide_ab("error_rate", 0.0, VariantStats(requests=100, errors=2), live).winner == "candidate"
    assert decide_ab("error_rate", 0.0, VariantStats(requests=100, errors=4), live).winner == "live"
    assert decide_ab("error_rate", 0.05, VariantStats(requests=100, errors=4), live).winner == "candidate"
    assert decide_ab("live_accuracy", 0.01, VariantStats(live_accuracy=0.90), live).winner == "live"
    assert decide_ab("live_accuracy", 0.01, VariantStats(), live).reason.startswith("inconclusive")


def test_prediction_scores_and_agreement() -> None:
    assert prediction_scores(["a", "b"], [{"a": 0.9, "b": 0.1}, {"a": 0.2, "b": 0.8}], ["a", "b"]) == [0.9, 0.2]
    assert prediction_scores(["a", "b"], None, ["a", "b"]) == [1.0, 0.0]
    assert prediction_scores([1.5, 2.0], None, None) == [1.5, 2.0]
    assert agreement(["a", "b"], ["a", "a"], regression=False) == [1.0, 0.0]
    assert agreement([100.0], [104.0], regression=True) == [1.0]


def _parse(body: dict, where: str) -> DeploymentSettings:
    return parse_deployment(Table(body, where, "sluice.toml"))


def test_the_deployment_table_is_checked() -> None:
    assert _parse({}, "d") == DeploymentSettings()
    assert _parse({"strategy": "canary"}, "d").check_schedule == "rate(1 minute)"
    assert DeploymentSettings().check_schedule is None
    assert DeploymentSettings().endpoint_package == "zip"
    assert _parse({"endpoint_package": "image"}, "d").endpoint_package == "image"
    for bad, message in (({"strategy": "blue_green"}, "strategy"), ({"canary_weight": 1.5}, "canary_weight"),
                         ({"bake_minutes": 0}, "bake_minutes"), ({"canary_wieght": 0.1}, "unknown"),
                         ({"checks": {"max_latency_p99_ratio": 0.5}}, "latency"),
                         ({"ab_metric": "vibes"}, "ab_metric"), ({"endpoint_package": "docker"}, "endpoint_package")):
        with pytest.raises(ConfigError, match=message):
            _parse(bad, "d")


def test_a_model_without_a_deployment_table_releases_all_at_once() -> None:
    config = load_config_text('[models.mm]\ntask = "regression"\n[models.mm.training]\nfamilies = ["ridge"]\n'
                              '[models.mm.contract]\ntarget = "y"\n'
                              '[[models.mm.contract.columns]]\nname = "x"\n')
    assert config.model("mm").deployment.strategy == "all_at_once"


def test_the_state_machine_declares_canary() -> None:
    check_transition(Status.APPROVED, Status.CANARY)
    for end in (Status.LIVE, Status.ROLLED_BACK, Status.REJECTED):
        check_transition(Status.CANARY, end)
    for illegal in ((Status.CANDIDATE, Status.CANARY), (Status.CANARY, Status.PREVIOUS),
                    (Status.REJECTED, Status.LIVE), (Status.ROLLED_BACK, Status.LIVE)):
        with pytest.raises(IllegalTransitionError):
            check_transition(*illegal)


@pytest.fixture
def registry() -> InMemoryRegistry:
    """The release records' semantics on both backends are pinned by test_registry_contract."""
    return InMemoryRegistry()


def _approved(registry: InMemoryRegistry, model: str = "m") -> int:
    version = registry.claim_version(model, data_version="d", code_version="c", lineage={}, actor="t",
                                     correlation_id="c").version
    registry.transition(model, version, to=Status.CANDIDATE, reason="r", actor="t", correlation_id="c")
    registry.transition(model, version, to=Status.APPROVED, reason="r", actor="t", correlation_id="c")
    return version


def _release(model: str, version: int) -> Deployment:
    return Deployment(model=model, version=version, strategy="canary", stage=0, stages=1, weight=0.1,
                      started_at="2026-01-01T00:00:00.000000Z", stage_started_at="2026-01-01T00:00:00.000000Z",
                      next_check_at="2026-01-01T00:10:00.000000Z", candidate_lambda_version=str(version),
                      live_version=1, live_lambda_version="1", correlation_id="c")


def test_one_release_per_model_is_recorded_conditionally_and_audited(registry: InMemoryRegistry) -> None:
    first = _approved(registry)
    registry.promote("m", first, lambda_version="1", reason="r", actor="t", correlation_id="c")
    second, third, other = _approved(registry), _approved(registry), _approved(registry, "other")
    started = registry.start_deployment(_release("m", second), reason="canary 10%", actor="t", trigger="E 1")
    # a second release of the same model is refused with the reason; another model is independent
    with pytest.raises(DeploymentInProgressError, match="canary of m v2 is in progress"):
        registry.start_deployment(_release("m", third), reason="r", actor="t")
    registry.start_deployment(_release("other", other), reason="r", actor="t")
    assert registry.get_version("m", third).status is Status.APPROVED
    # updates are conditional on the revision they read
    moved = registry.update_deployment(started, _release("m", second), change="extended", reason="r", actor="t")
    assert moved.revision == 2
    with pytest.raises(Exception, match="concurrently"):
        registry.update_deployment(started, _release("m", second), change="stale", reason="r", actor="t")
    # queueing is once per version
    assert registry.queue_deployment("m", third, correlation_id="c", actor="t") is True
    assert registry.queue_deployment("m", third, correlation_id="c", actor="t") is False
    assert registry.take_queued("m", third) is True and registry.take_queued("m", third) is False
    # the end of a release removes the record in the same transaction
    registry.end_deployment(moved, to=Status.ROLLED_BACK, reason="alarm", actor="t", trigger="Alarm 9")
    assert registry.get_deployment("m") is None
    assert registry.get_version("m", second).status is Status.ROLLED_BACK
    trail = [(entry.change, entry.trigger) for entry in registry.history("m")]
    assert ("approved → canary", "E 1") in trail and ("canary → rolled_back", "Alarm 9") in trail
