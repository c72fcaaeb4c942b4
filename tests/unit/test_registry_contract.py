"""The registry's contract: every interface test runs against both backends (DynamoDB on moto, in-memory).

Races run real threads. moto's in-process DynamoDB does not make a request atomic between threads (it checks a
condition, then writes), while DynamoDB does: each request, a transaction included, is atomic and conditions are
evaluated against the item as it is at that moment (DynamoDB developer guide, "Condition expressions" and
"TransactWriteItems"). The DynamoDB fixture therefore serializes requests — what AWS guarantees — and leaves
everything between two requests free to interleave, which is where the backend's own conditions must hold.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sluice.deployment import release_lock
from sluice.registry import (
    ConcurrentUpdateError,
    DatasetRecord,
    DeployLockHeldError,
    Deployment,
    DeploymentInProgressError,
    DynamoDBRegistry,
    IllegalTransitionError,
    InMemoryRegistry,
    ModelVersion,
    RegistryError,
    RegistryStore,
    Status,
    VersionNotFoundError,
)

TABLE = "registry"
START = 1_800_000_000.0


class Clock:
    """A clock the test moves, which also ticks 10 µs each time it is read: time passes between two requests
    (entries written at one and the same instant have no order in DynamoDB's sort key)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        self.now += 0.00001
        return self.now


class AtomicRequests:
    """A DynamoDB client whose requests are each atomic, as DynamoDB's are (see the module docstring)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return call


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["dynamodb", "memory"])
def registry(request: pytest.FixtureRequest, clock: Clock) -> Iterator[RegistryStore]:
    if request.param == "memory":
        yield InMemoryRegistry(clock=clock)
        return
    with registry_table() as client:
        yield DynamoDBRegistry(AtomicRequests(client), TABLE, clock=clock)


@contextmanager
def registry_table() -> Iterator[Any]:
    """A DynamoDB client (moto) with the registry's table, as the stack declares it."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        )
        yield client


def _claim(registry: RegistryStore, model: str = "m", key: str | None = None, data_version: str = "d1") -> int:
    return registry.claim_version(model, data_version=data_version, code_version="c", lineage={}, actor="t",
                                  correlation_id="c", claim_key=key).version


def _candidate(registry: RegistryStore, model: str = "m") -> int:
    version = _claim(registry, model)
    registry.transition(model, version, to=Status.CANDIDATE, reason="trained", actor="t", correlation_id="c",
                        fields={"artifact_sha256": "ab" * 32, "metrics": {"roc_auc": 0.97}})
    return version


def _approved(registry: RegistryStore, model: str = "m") -> int:
    version = _candidate(registry, model)
    registry.transition(model, version, to=Status.APPROVED, reason="gate", actor="t", correlation_id="c")
    return version


def _release(model: str, version: int, live_version: int = 1) -> Deployment:
    return Deployment(model=model, version=version, strategy="canary", stage=0, stages=2, weight=0.1,
                      started_at="2027-01-15T08:00:00.000000Z", stage_started_at="2027-01-15T08:00:00.000000Z",
                      next_check_at="2027-01-15T08:10:00.000000Z", candidate_lambda_version=str(version),
                      live_version=live_version, live_lambda_version=str(live_version), correlation_id="c")


def _race(*writers: Callable[[], Any]) -> list[Any]:
    """Run the writers at once (released together by a barrier); each result, or the exception it raised."""
    barrier = threading.Barrier(len(writers))
    results: list[Any] = [None] * len(writers)

    def run(index: int, writer: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = writer()
        except Exception as error:  # the loser's error is the result under test
            results[index] = error

    threads = [threading.Thread(target=run, args=(index, writer)) for index, writer in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return results


# -- versions and their state machine -----------------------------------------------------------------


def test_versions_are_numbered_without_gaps_per_model(registry: RegistryStore) -> None:
    # GIVEN two models WHEN versions are claimed for each THEN each model counts on its own
    assert [_claim(registry, model) for model in ("a", "a", "b", "a")] == [1, 2, 1, 3]
    assert [v.version for v in registry.list_versions("a")] == [1, 2, 3]


def test_concurrent_claims_never_share_a_number(registry: RegistryStore) -> None:
    # GIVEN six trainings claiming at once WHEN they race THEN they hold six distinct, gapless numbers
    claimed = _race(*[lambda: _claim(registry) for _ in range(6)])
    assert sorted(claimed) == [1, 2, 3, 4, 5, 6]
    assert len(registry.history("m")) == 6


def test_claiming_again_with_the_same_key_resumes_the_first_claim(registry: RegistryStore) -> None:
    # GIVEN a training that claimed v1 and crashed WHEN its rerun claims with the same key
    first, again = _claim(registry, key="DatasetAccepted:drop-1:d1"), _claim(registry, key="DatasetAccepted:drop-1:d1")
    # THEN it resumes v1: one version, one audit entry; other keys and keyless claims take the next numbers
    assert (first, again) == (1, 1) and len(registry.history("m")) == 1
    assert [_claim(registry, key="b"), _claim(registry), _claim(registry, key="DatasetAccepted:drop-1:d1")] == [2, 3, 1]


def test_a_claim_records_why_the_version_was_created(registry: RegistryStore) -> None:
    # GIVEN a claim by training and one by a promotion WHEN the audit trail is read THEN each says why
    registry.claim_version("m", data_version="d", code_version="c", lineage={}, actor="train_model",
                           correlation_id="c1")
    registry.claim_version("m", data_version="d", code_version="c", lineage={}, actor="promote", correlation_id="c2",
                           claim_key="promotion:dev:v1", reason="promotion of dev v1 started")
    assert [(entry.change, entry.reason) for entry in registry.history("m")] == [
        ("created (training)", "training started"), ("created (training)", "promotion of dev v1 started")]


def test_two_reruns_of_one_claim_racing_share_its_version(registry: RegistryStore) -> None:
    # GIVEN two deliveries of the same training WHEN both claim at once THEN both hold the one version
    assert _race(lambda: _claim(registry, key="k"), lambda: _claim(registry, key="k")) == [1, 1]
    assert [v.version for v in registry.list_versions("m")] == [1]


def test_a_rerun_after_the_training_ended_sees_its_outcome(registry: RegistryStore) -> None:
    version = _claim(registry, key="k")
    registry.transition("m", version, to=Status.CANDIDATE, reason="trained", actor="t", correlation_id="c")
    assert registry.claim_version("m", data_version="d1", code_version="c", lineage={}, actor="t", correlation_id="c",
                                  claim_key="k").status is Status.CANDIDATE


def test_transition_follows_the_state_machine_stores_fields_and_is_audited(registry: RegistryStore) -> None:
    version = _approved(registry)
    # WHEN a transition the state machine does not declare is asked THEN it is refused and nothing changes
    with pytest.raises(IllegalTransitionError):
        registry.transition("m", version, to=Status.CANDIDATE, reason="x", actor="t", correlation_id="c")
    assert [entry.change for entry in registry.history("m")] == [
        "created (training)", "training → candidate", "candidate → approved"]
    stored = registry.get_version("m", version)
    assert (stored.status, stored.metrics, stored.artifact_sha256) == (Status.APPROVED, {"roc_auc": 0.97}, "ab" * 32)
    with pytest.raises(VersionNotFoundError):
        registry.get_version("m", 99)


def test_stored_versions_do_not_change_with_the_callers_objects(registry: RegistryStore) -> None:
    # GIVEN lineage and fields the caller keeps changing after handing them over
    lineage: dict[str, Any] = {"sources": ["s3://b/a.csv"]}
    version = registry.claim_version("m", data_version="d", code_version="c", lineage=lineage, actor="t",
                                     correlation_id="c").version
    metrics = {"rmse": 1.5}
    registry.transition("m", version, to=Status.CANDIDATE, reason="r", actor="t", correlation_id="c",
                        fields={"metrics": metrics, "replaced_version": None})
    lineage["sources"].append("s3://b/b.csv")
    metrics["rmse"] = 9.0
    registry.get_version("m", version).metrics["rmse"] = 7.0
    # THEN the registry keeps what it was given (and a None field is not stored)
    stored = registry.get_version("m", version)
    assert (stored.lineage, stored.metrics, stored.replaced_version) == ({"sources": ["s3://b/a.csv"]}, {"rmse": 1.5},
                                                                          None)


def test_two_writers_moving_one_version_one_wins(registry: RegistryStore) -> None:
    # GIVEN a candidate WHEN approval and rejection race
    version = _candidate(registry)
    results = _race(
        lambda: registry.transition("m", version, to=Status.APPROVED, reason="gate", actor="a", correlation_id="c"),
        lambda: registry.transition("m", version, to=Status.REJECTED, reason="gate", actor="b", correlation_id="c"))
    # THEN exactly one moved it, the other was refused by the registry, and one move is audited
    won = [result for result in results if not isinstance(result, Exception)]
    lost = [result for result in results if isinstance(result, Exception)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], RegistryError)
    assert registry.get_version("m", version).status is won[0].status
    assert sum(entry.change.startswith("candidate →") for entry in registry.history("m")) == 1


def test_a_decision_on_a_waiting_version_races_its_expiry_and_one_wins(registry: RegistryStore) -> None:
    # GIVEN a version waiting for approval, its request stored as a nested document
    version = _approved(registry)
    registry.transition("m", version, to=Status.PENDING_APPROVAL, reason="approval required", actor="deploy",
                        correlation_id="c", fields={"approval": {"expires_at": "2027-01-16T08:00:00Z"}},
                        trigger="ModelEvaluated e1")
    # WHEN a reviewer's approval and the expiry sweep race
    results = _race(
        lambda: registry.transition("m", version, to=Status.APPROVED, reason="card reviewed", actor="arn:ana",
                                    correlation_id="d", trigger="ApprovalDecided e2",
                                    fields={"approval": {"expires_at": "2027-01-16T08:00:00Z",
                                                         "decision": "approve", "actor": "arn:ana"}}),
        lambda: registry.transition("m", version, to=Status.RETIRED, reason="approval expired", actor="deploy",
                                    correlation_id="c", trigger="Scheduled Event s1"))
    # THEN one moved it, with its fields and its audit entry naming the triggering event
    won = [result for result in results if not isinstance(result, Exception)]
    assert len(won) == 1 and isinstance(next(r for r in results if isinstance(r, Exception)), RegistryError)
    stored = registry.get_version("m", version)
    entries = [e for e in registry.history("m") if e.change.startswith("pending_approval →")]
    assert len(entries) == 1 and stored.status is won[0].status
    waiting = next(e for e in registry.history("m") if e.change == "approved → pending_approval")
    assert waiting.trigger == "ModelEvaluated e1"
    if stored.status is Status.APPROVED:
        assert stored.approval == {"expires_at": "2027-01-16T08:00:00Z", "decision": "approve", "actor": "arn:ana"}
        assert (entries[0].actor, entries[0].trigger) == ("arn:ana", "ApprovalDecided e2")
    else:
        assert stored.approval == {"expires_at": "2027-01-16T08:00:00Z"}
        assert (entries[0].reason, entries[0].trigger) == ("approval expired", "Scheduled Event s1")


# -- aliases -------------------------------------------------------------------------------------------


def test_promote_moves_live_and_previous_then_rollback_restores(registry: RegistryStore, clock: Clock) -> None:
    # GIVEN nothing live yet
    assert registry.last_endpoint_change("m") is None
    # WHEN v1 and then v2 are promoted
    registry.promote("m", _approved(registry), lambda_version="1", reason="r", actor="t", correlation_id="c")
    clock.now += 60
    second = _approved(registry)
    promoted = registry.promote("m", second, lambda_version="2", reason="r", actor="t", correlation_id="c")
    # THEN v2 is live, v1 previous (and v2 knows it replaced v1)
    live, previous = registry.get_alias("m", "live"), registry.get_alias("m", "previous")
    assert (live and live.version, live and live.revision, previous and previous.version) == (2, 2, 1)
    assert (promoted.replaced_version, registry.get_version("m", 1).status) == (1, Status.PREVIOUS)
    changed = registry.last_endpoint_change("m")
    assert changed is not None and not changed.rolled_back and changed.at == promoted.updated_at
    # WHEN rolled back THEN v1 is live again, v2 rolled_back, and there is nothing further to go back to
    clock.now += 60
    rolled, now_live = registry.rollback("m", reason="alarm", actor="t", correlation_id="c", trigger="Alarm 1")
    assert (rolled.version, rolled.status, now_live.version, now_live.status) == (2, Status.ROLLED_BACK, 1, Status.LIVE)
    assert registry.get_alias("m", "previous") is None
    changed = registry.last_endpoint_change("m")
    assert changed is not None and changed.rolled_back and changed.at == now_live.updated_at
    with pytest.raises(RegistryError):
        registry.rollback("m", reason="again", actor="t", correlation_id="c")


def test_rollback_keeps_an_older_known_good_version_as_previous(registry: RegistryStore) -> None:
    for lambda_version in ("1", "2", "3"):
        registry.promote("m", _approved(registry), lambda_version=lambda_version, reason="r", actor="t",
                         correlation_id="c")
    registry.rollback("m", reason="alarm", actor="t", correlation_id="c")
    live, previous = registry.get_alias("m", "live"), registry.get_alias("m", "previous")
    assert (live and live.version, previous and previous.version) == (2, 1)


def test_promote_refuses_a_version_that_is_not_approved(registry: RegistryStore) -> None:
    version = _claim(registry)
    with pytest.raises(IllegalTransitionError):
        registry.promote("m", version, lambda_version="1", reason="r", actor="t", correlation_id="c")
    assert registry.get_alias("m", "live") is None


def test_two_promotions_racing_leave_one_live_version(registry: RegistryStore) -> None:
    # GIVEN v1 live and two approved versions WHEN both are promoted at once
    registry.promote("m", _approved(registry), lambda_version="1", reason="r", actor="t", correlation_id="c")
    second, third = _approved(registry), _approved(registry)
    results = _race(*[lambda v=v: registry.promote("m", v, lambda_version=str(v), reason="r", actor="t",
                                                   correlation_id="c") for v in (second, third)])
    # THEN every promotion either landed whole or was refused as a lost race; exactly one version is live. Both may
    # land one after the other (a slow thread starts after the other's write): the first is then previous
    assert all(isinstance(result, ConcurrentUpdateError | ModelVersion) for result in results), results
    landed = [result.version for result in results if isinstance(result, ModelVersion)]
    statuses = {v.version: v.status for v in registry.list_versions("m")}
    live = registry.get_alias("m", "live")
    assert list(statuses.values()).count(Status.LIVE) == 1 and live is not None and live.version in landed, results
    assert sorted(statuses[version] for version in landed) == sorted(
        [Status.LIVE] if len(landed) == 1 else [Status.LIVE, Status.PREVIOUS]), statuses
    assert statuses[live.version] is Status.LIVE


# -- releases in progress ----------------------------------------------------------------------------


def test_one_release_per_model_recorded_conditionally_and_audited(registry: RegistryStore) -> None:
    registry.promote("m", _approved(registry), lambda_version="1", reason="r", actor="t", correlation_id="c")
    second, third, other = _approved(registry), _approved(registry), _approved(registry, "other")
    # WHEN a release starts THEN the candidate is canary and the endpoint changed
    started = registry.start_deployment(_release("m", second), reason="canary 10%", actor="t", trigger="E 1")
    assert registry.get_version("m", second).status is Status.CANARY and registry.get_deployment("m") == started
    # AND a second release of the same model is refused, leaving its candidate approved; other models are free
    with pytest.raises(DeploymentInProgressError, match=f"canary of m v{second}"):
        registry.start_deployment(_release("m", third), reason="r", actor="t")
    assert registry.get_version("m", third).status is Status.APPROVED
    registry.start_deployment(_release("other", other), reason="r", actor="t")
    # AND an update lands on the current revision only
    moved = registry.update_deployment(started, replace(started, stage=1, weight=0.5), change="→ 50%", reason="r",
                                       actor="t")
    assert (moved.revision, registry.get_deployment("m")) == (2, moved)
    with pytest.raises(ConcurrentUpdateError):
        registry.update_deployment(started, started, change="stale", reason="r", actor="t")
    with pytest.raises(ConcurrentUpdateError):
        registry.end_deployment(started, to=Status.ROLLED_BACK, reason="stale", actor="t")
    # WHEN it is aborted THEN the record is gone, the candidate rolled back, and traffic moved back
    registry.end_deployment(moved, to=Status.ROLLED_BACK, reason="alarm", actor="t", trigger="Alarm 9")
    assert registry.get_deployment("m") is None
    assert registry.get_version("m", second).status is Status.ROLLED_BACK
    changed = registry.last_endpoint_change("m")
    assert changed is not None and changed.rolled_back
    trail = [(entry.change, entry.trigger) for entry in registry.history("m") if entry.subject == f"v{second}"]
    assert trail[-3:] == [("approved → canary", "E 1"), ("→ 50%", ""), ("canary → rolled_back", "Alarm 9")]


def test_promoting_a_release_ends_it_in_the_same_write(registry: RegistryStore) -> None:
    registry.promote("m", _approved(registry), lambda_version="1", reason="r", actor="t", correlation_id="c")
    candidate = _approved(registry)
    started = registry.start_deployment(_release("m", candidate), reason="r", actor="t")
    moved = registry.update_deployment(started, started, change="extended", reason="r", actor="t")
    # WHEN a promotion carries a stale record THEN nothing of it lands
    with pytest.raises(ConcurrentUpdateError):
        registry.promote("m", candidate, lambda_version="2", reason="r", actor="t", correlation_id="c",
                         deployment=started)
    assert registry.get_version("m", candidate).status is Status.CANARY
    assert (registry.get_alias("m", "live") or started).version == 1 and registry.get_deployment("m") == moved
    # WHEN it carries the current one THEN the candidate is live and the release is over
    registry.promote("m", candidate, lambda_version="2", reason="r", actor="t", correlation_id="c", deployment=moved)
    assert registry.get_deployment("m") is None
    assert registry.get_version("m", candidate).status is Status.LIVE


def test_two_releases_racing_one_starts(registry: RegistryStore) -> None:
    registry.promote("m", _approved(registry), lambda_version="1", reason="r", actor="t", correlation_id="c")
    second, third = _approved(registry), _approved(registry)
    results = _race(*[lambda v=v: registry.start_deployment(_release("m", v), reason="r", actor="t")
                      for v in (second, third)])
    assert sum(isinstance(result, Deployment) for result in results) == 1
    assert sum(isinstance(result, DeploymentInProgressError) for result in results) == 1
    statuses = [registry.get_version("m", v).status for v in (second, third)]
    assert sorted(statuses) == sorted([Status.CANARY, Status.APPROVED])


def test_queued_versions_are_taken_once(registry: RegistryStore) -> None:
    # GIVEN two versions queued (one of them twice)
    assert registry.queue_deployment("m", 3, correlation_id="c3", actor="t", trigger="E 3") is True
    assert registry.queue_deployment("m", 2, correlation_id="c2", actor="t") is True
    assert registry.queue_deployment("m", 3, correlation_id="c3", actor="t") is False
    assert [(q.version, q.correlation_id) for q in registry.queued_deployments("m")] == [(2, "c2"), (3, "c3")]
    # WHEN two checks take the same one at once THEN exactly one gets it
    assert sorted(_race(lambda: registry.take_queued("m", 3), lambda: registry.take_queued("m", 3))) == [False, True]
    assert [q.version for q in registry.queued_deployments("m")] == [2]
    assert [entry.change for entry in registry.history("m")] == ["queued for release"] * 2


# -- datasets ------------------------------------------------------------------------------------------


def _dataset(version: str, at: str, *, sources: tuple[str, ...] = (), origin: str = "drop") -> DatasetRecord:
    return DatasetRecord(model="m", data_version=version, rows=10, data_key=f"k/{version}", sources=sources,
                         accepted_at=at, origin=origin)


def test_datasets_are_recorded_once_and_sources_accumulate(registry: RegistryStore) -> None:
    record = _dataset("abc", "2027-01-01T00:00:00.000000Z", sources=("s3://b/one.csv",))
    assert registry.record_dataset(record, recorded_by="drop-1") is True
    # WHEN another drop brings the same data THEN it is not new, but its source is kept
    assert registry.record_dataset(replace(record, sources=("s3://b/two.csv",)), recorded_by="drop-2") is False
    assert registry.list_datasets("m")[0].sources == ("s3://b/one.csv", "s3://b/two.csv")
    # WHEN the first drop reruns after a crash THEN it is told the data is new again, so it finishes the work
    assert registry.record_dataset(record, recorded_by="drop-1") is True
    latest = registry.latest_dataset("m")
    assert latest is not None and latest.data_version == "abc"


def test_datasets_are_listed_in_order_of_acceptance_and_the_latest_only_moves_forward(
        registry: RegistryStore) -> None:
    # GIVEN two drops and a feedback dataset recorded out of order
    for version, at, origin in (("b", "2027-02-01T00:00:00.000000Z", "drop"), ("a", "2027-01-01T00:00:00.000000Z",
                                "drop"), ("f", "2027-03-01T00:00:00.000000Z", "feedback")):
        registry.record_dataset(_dataset(version, at, origin=origin))
    # THEN they are listed oldest first, each with its origin
    assert [(d.data_version, d.origin) for d in registry.list_datasets("m")] == [
        ("a", "drop"), ("b", "drop"), ("f", "feedback")]
    # AND the latest is the newest drop: an older drop recorded later and feedback never become it
    assert registry.latest_dataset("m").data_version == "b"  # type: ignore[union-attr]
    assert registry.list_datasets("other") == [] and registry.latest_dataset("other") is None


# -- leases --------------------------------------------------------------------------------------------


def test_a_lease_has_one_owner_until_it_is_released_or_expires(registry: RegistryStore, clock: Clock) -> None:
    # GIVEN a lease taken for 60 s
    assert registry.acquire_lease("m", "deploy", owner="first", ttl_s=60, trigger="E 1").acquired
    # WHEN another owner asks THEN it is refused and told who holds it
    refused = registry.acquire_lease("m", "deploy", owner="second", ttl_s=60)
    assert not refused.acquired and (refused.lease.owner, refused.lease.trigger) == ("first", "E 1")
    assert refused.lease.lease_until == int(START + 60) and int(refused.at) == int(START)
    # AND the owner's retry takes it again; other models and other lease names are free
    assert registry.acquire_lease("m", "deploy", owner="first", ttl_s=60).acquired
    assert registry.acquire_lease("other", "deploy", owner="second", ttl_s=60).acquired
    assert registry.acquire_lease("m", "retrain", owner="second", ttl_s=60).acquired
    # WHEN the lease runs out (its holder crashed) THEN another owner takes it
    clock.now += 61
    assert registry.acquire_lease("m", "deploy", owner="second", ttl_s=60).acquired
    # AND the crashed holder's late release changes nothing
    assert registry.release_lease("m", "deploy", owner="first") is False
    held = registry.get_lease("m", "deploy")
    assert held is not None and held.owner == "second" and held.lease_until == int(clock.now + 60)
    assert registry.get_lease("m", "unknown") is None


def test_a_released_lease_is_free_unless_its_cool_down_lasts(registry: RegistryStore, clock: Clock) -> None:
    registry.acquire_lease("m", "retrain", owner="a", ttl_s=900)
    assert registry.release_lease("m", "retrain", owner="a") is True
    assert registry.acquire_lease("m", "retrain", owner="b", ttl_s=900).acquired
    # WHEN its owner releases it with a cool-down THEN nobody takes it until the cool-down passed
    assert registry.release_lease("m", "retrain", owner="b", cooldown_s=600) is True
    clock.now += 600
    cooling = registry.acquire_lease("m", "retrain", owner="c", ttl_s=900)
    assert not cooling.acquired and cooling.lease.busy_until == int(START + 600)
    assert cooling.lease.lease_until == 0 and cooling.lease.released_at
    clock.now += 1
    taken = registry.acquire_lease("m", "retrain", owner="c", ttl_s=900)
    # AND the cool-down survives the next holder, who may leave it as it is
    assert taken.acquired and taken.lease.cooldown_until == int(START + 600)
    registry.release_lease("m", "retrain", owner="c", cooldown_s=None)
    assert registry.get_lease("m", "retrain").cooldown_until == int(START + 600)  # type: ignore[union-attr]


def test_a_forced_lease_is_taken_whoever_holds_it(registry: RegistryStore) -> None:
    registry.acquire_lease("m", "retrain", owner="drift", ttl_s=900)
    registry.release_lease("m", "retrain", owner="drift", cooldown_s=3600)
    # WHEN a schedule forces it during the cool-down THEN it holds it, and triggers still wait
    assert registry.acquire_lease("m", "retrain", owner="schedule", ttl_s=900, force=True).acquired
    assert not registry.acquire_lease("m", "retrain", owner="alarm", ttl_s=900).acquired


def test_of_many_owners_racing_for_a_lease_one_holds_it(registry: RegistryStore) -> None:
    owners = [f"owner-{index}" for index in range(6)]
    grants = _race(*[lambda o=o: registry.acquire_lease("m", "deploy", owner=o, ttl_s=60) for o in owners])
    winners = [grant.lease.owner for grant in grants if grant.acquired]
    assert len(winners) == 1
    assert all(grant.lease.owner == winners[0] for grant in grants)
    assert registry.get_lease("m", "deploy").owner == winners[0]  # type: ignore[union-attr]


def test_the_release_lock_is_the_deploy_lease(registry: RegistryStore) -> None:
    # GIVEN a release holding the model's lock WHEN another asks THEN DeployLockHeldError names the holder
    with (release_lock(registry, "m", owner="deploy_model:m:v2", ttl_s=300),
          pytest.raises(DeployLockHeldError, match="deploy_model:m:v2"),
          release_lock(registry, "m", owner="rollback_model:m", ttl_s=300)):
        pass
    # AND it is released on the way out, even when the work inside failed
    with pytest.raises(RuntimeError), release_lock(registry, "m", owner="rollback_model:m", ttl_s=300):
        raise RuntimeError("the alias did not move")
    with release_lock(registry, "m", owner="deploy_model:m:v3", ttl_s=300):
        assert registry.get_lease("m", "deploy").owner == "deploy_model:m:v3"  # type: ignore[union-attr]


# -- audit ---------------------------------------------------------------------------------------------


def test_notes_join_the_trail_in_order_with_their_trigger(registry: RegistryStore, clock: Clock) -> None:
    _claim(registry)
    clock.now += 1
    registry.note("m", subject="endpoint", change="alarm ignored", reason="stale", actor="rollback_model",
                  correlation_id="x", trigger="Alarm 7")
    trail = registry.history("m")
    assert [(entry.subject, entry.change, entry.trigger) for entry in trail] == [
        ("v1", "created (training)", ""), ("endpoint", "alarm ignored", "Alarm 7")]
    assert trail[1].at > trail[0].at and registry.history("other") == []


# -- both backends, side by side -----------------------------------------------------------------------


def _lifecycle(registry: RegistryStore, clock: Clock) -> dict[str, Any]:
    """A scripted life of one model touching every interface; everything readable afterwards."""
    steps: list[Callable[[], Any]] = [
        lambda: registry.record_dataset(_dataset("d1", "2027-01-01T00:00:00.000000Z", sources=("s3://b/1.csv",))),
        lambda: registry.record_dataset(_dataset("d1", "2027-01-01T00:00:00.000000Z", sources=("s3://b/2.csv",))),
        lambda: registry.promote("m", _approved(registry), lambda_version="1", reason="first", actor="t",
                                 correlation_id="c1", trigger="E 1"),
        lambda: registry.promote("m", _approved(registry), lambda_version="2", reason="second", actor="t",
                                 correlation_id="c2"),
        lambda: registry.start_deployment(_release("m", _approved(registry), live_version=2), reason="canary",
                                          actor="t", trigger="E 3"),
        lambda: registry.queue_deployment("m", _approved(registry), correlation_id="c4", actor="t"),
        lambda: registry.end_deployment(registry.get_deployment("m"), to=Status.ROLLED_BACK,  # type: ignore[arg-type]
                                        reason="alarm", actor="t"),
        lambda: registry.take_queued("m", 4),
        lambda: registry.rollback("m", reason="alarm", actor="t", correlation_id="c5", trigger="Alarm 2"),
        lambda: registry.note("m", subject="endpoint", change="alarm ignored", reason="stale", actor="t",
                              correlation_id="c6"),
        lambda: registry.acquire_lease("m", "retrain", owner="a", ttl_s=900, trigger="DriftDetected"),
        lambda: registry.release_lease("m", "retrain", owner="a", cooldown_s=600),
        lambda: registry.acquire_lease("m", "retrain", owner="b", ttl_s=900),
    ]
    outcomes = []
    for step in steps:
        clock.now = float(int(clock.now) + 1)
        outcomes.append(step())
    return {"outcomes": outcomes, "versions": registry.list_versions("m"), "history": registry.history("m"),
            "aliases": [registry.get_alias("m", name) for name in ("live", "previous")],
            "release": registry.get_deployment("m"), "queued": registry.queued_deployments("m"),
            "endpoint": registry.last_endpoint_change("m"), "datasets": registry.list_datasets("m"),
            "latest": registry.latest_dataset("m"), "lease": registry.get_lease("m", "retrain")}


def test_both_backends_tell_the_same_story() -> None:
    # GIVEN the same scripted life on each backend, at the same instants
    memory_clock, dynamodb_clock = Clock(), Clock()
    in_memory = _lifecycle(InMemoryRegistry(clock=memory_clock), memory_clock)
    with registry_table() as client:
        on_dynamodb = _lifecycle(DynamoDBRegistry(client, TABLE, clock=dynamodb_clock), dynamodb_clock)
    # THEN every answer and everything read back afterwards is the same, entity for entity
    for part in in_memory:
        assert in_memory[part] == on_dynamodb[part], part
