"""deploy_model's registry side on the in-memory registry: queueing behind a release, the queue's end, the lock."""

from __future__ import annotations

import pytest

from sluice.config import load_config_text
from sluice.deployment import RELEASE_LEASE
from sluice.events import DetailType
from sluice.registry import DeployLockHeldError, Deployment, InMemoryRegistry, Status
from sluice.settings import Settings
from sluice.steps.context import StepContext
from sluice.steps.deploy import check_releases, deploy_version
from sluice.storage import ObjectStore
from tests.unit.growth_stack import MODEL, START, RecordingPublisher, config_text


def _context(registry: InMemoryRegistry, events: RecordingPublisher) -> StepContext:
    settings = Settings(prefix="sluice", data_bucket="data", artifact_bucket="artifacts", registry_table="registry",
                        idempotency_table="idempotency", event_bus="bus", code_version="test")
    return StepContext(settings=settings, config=load_config_text(config_text()), data=ObjectStore(None, "data"),
                       artifacts=ObjectStore(None, "artifacts"), registry=registry, events=events,
                       clock=lambda: START)


def _approved(registry: InMemoryRegistry) -> int:
    version = registry.claim_version(MODEL, data_version="d", code_version="c", lineage={}, actor="t",
                                     correlation_id="c").version
    registry.transition(MODEL, version, to=Status.CANDIDATE, reason="r", actor="t", correlation_id="c")
    registry.transition(MODEL, version, to=Status.APPROVED, reason="r", actor="t", correlation_id="c")
    return version


def _in_release(registry: InMemoryRegistry) -> Deployment:
    registry.promote(MODEL, _approved(registry), lambda_version="1", reason="r", actor="t", correlation_id="c")
    candidate = _approved(registry)
    return registry.start_deployment(Deployment(
        model=MODEL, version=candidate, strategy="canary", stage=0, stages=2, weight=0.1,
        started_at="2027-01-15T08:00:00.000000Z", stage_started_at="2027-01-15T08:00:00.000000Z",
        next_check_at="2027-01-15T08:10:00.000000Z", candidate_lambda_version="2", live_version=1,
        live_lambda_version="1", correlation_id="c"), reason="canary", actor="t")


def test_an_approved_version_waits_behind_the_release_in_progress_once() -> None:
    # GIVEN v2 in release and v3 approved
    registry, events = InMemoryRegistry(clock=lambda: START), RecordingPublisher()
    ctx = _context(registry, events)
    active = _in_release(registry)
    third = _approved(registry)
    # WHEN v3 is deployed, and its event delivered again
    first = deploy_version(ctx, MODEL, third, correlation_id="e3")
    again = deploy_version(ctx, MODEL, third, correlation_id="e3")
    # THEN it is queued behind v2 once, announced once, and still approved
    assert first["outcome"] == again["outcome"] == "queued" and f"v{active.version}" in first["reason"]
    assert [q.version for q in registry.queued_deployments(MODEL)] == [third]
    assert [event["behind_version"] for event in events.of(DetailType.DEPLOYMENT_QUEUED)] == [active.version]
    assert registry.get_version(MODEL, third).status is Status.APPROVED


def test_a_queued_version_no_longer_approved_is_dropped_when_the_release_ends() -> None:
    # GIVEN v3 queued behind v2, then retired while it waited
    registry, events = InMemoryRegistry(clock=lambda: START), RecordingPublisher()
    ctx = _context(registry, events)
    active = _in_release(registry)
    third = _approved(registry)
    deploy_version(ctx, MODEL, third, correlation_id="e3")
    registry.transition(MODEL, third, to=Status.RETIRED, reason="superseded", actor="t", correlation_id="c")
    # WHEN v2's release ends and the scheduled check runs
    registry.end_deployment(active, to=Status.ROLLED_BACK, reason="alarm", actor="t")
    checked = check_releases(ctx, (MODEL,), correlation_id="tick", trigger="Scheduled Event tick")
    # THEN nothing starts and the queue is empty: the retired version was taken and skipped
    assert checked == {"outcome": "checked", "releases": [], "correlation_id": "tick"}
    assert registry.queued_deployments(MODEL) == [] and registry.get_deployment(MODEL) is None


def test_a_deploy_waits_while_another_owner_holds_the_release_lock() -> None:
    # GIVEN a rollback holding the model's release lock, and an approved version (nothing live: all at once)
    registry, events = InMemoryRegistry(clock=lambda: START), RecordingPublisher()
    version = _approved(registry)
    registry.acquire_lease(MODEL, RELEASE_LEASE, owner="rollback_model:churn:x", ttl_s=300)
    # WHEN it is deployed THEN it is refused before touching the endpoint, and stays approved for the retry
    with pytest.raises(DeployLockHeldError, match="rollback_model"):
        deploy_version(_context(registry, events), MODEL, version, correlation_id="e1")
    assert registry.get_version(MODEL, version).status is Status.APPROVED
    assert events.published == []
