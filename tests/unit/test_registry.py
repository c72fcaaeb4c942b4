"""The registry: conditional writes, the state machine, aliases and the audit trail (on moto)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from sluice.registry import (
    ConcurrentUpdateError,
    DatasetRecord,
    DeployLockHeldError,
    DynamoDBRegistry,
    IllegalTransitionError,
    RegistryError,
    Status,
    check_transition,
)

TABLE = "registry"


@pytest.fixture
def registry() -> Iterator[DynamoDBRegistry]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        )
        yield DynamoDBRegistry(client, TABLE)


def _approved(registry: DynamoDBRegistry, model: str = "m") -> int:
    claimed = registry.claim_version(model, data_version="d1", code_version="0.1", lineage={}, actor="t",
                                     correlation_id="c")
    registry.transition(model, claimed.version, to=Status.CANDIDATE, reason="trained", actor="t", correlation_id="c",
                        fields={"artifact_sha256": "ab" * 32, "metrics": {"roc_auc": 0.97}})
    registry.transition(model, claimed.version, to=Status.APPROVED, reason="gate", actor="t", correlation_id="c")
    return claimed.version


def test_versions_are_numbered_without_gaps_per_model(registry: DynamoDBRegistry) -> None:
    # GIVEN two models WHEN versions are claimed for each
    numbers = [registry.claim_version(m, data_version="d", code_version="c", lineage={}, actor="t",
                                      correlation_id="c").version for m in ("a", "a", "b", "a")]
    # THEN each model counts on its own
    assert numbers == [1, 2, 1, 3]


def test_transition_follows_the_state_machine_and_is_audited(registry: DynamoDBRegistry) -> None:
    version = _approved(registry)
    with pytest.raises(IllegalTransitionError):
        registry.transition("m", version, to=Status.CANDIDATE, reason="x", actor="t", correlation_id="c")
    changes = [entry.change for entry in registry.history("m")]
    assert changes == ["created (training)", "training → candidate", "candidate → approved"]
    stored = registry.get_version("m", version)
    assert stored.metrics == {"roc_auc": 0.97} and stored.status is Status.APPROVED


def test_declared_transitions_refuse_leaving_terminal_states() -> None:
    for terminal in (Status.REJECTED, Status.FAILED, Status.RETIRED):
        with pytest.raises(IllegalTransitionError):
            check_transition(terminal, Status.LIVE)


def test_promote_moves_live_and_previous_then_rollback_restores(registry: DynamoDBRegistry) -> None:
    # GIVEN v1 live and v2 promoted after it
    first = _approved(registry)
    registry.promote("m", first, lambda_version="1", reason="r", actor="t", correlation_id="c")
    second = _approved(registry)
    registry.promote("m", second, lambda_version="2", reason="r", actor="t", correlation_id="c")
    live, previous = registry.get_alias("m", "live"), registry.get_alias("m", "previous")
    assert (live and live.version, previous and previous.version) == (2, 1)
    assert registry.get_version("m", 1).status is Status.PREVIOUS
    # WHEN rolled back
    rolled, now_live = registry.rollback("m", reason="alarm", actor="t", correlation_id="c")
    # THEN v1 is live again, v2 is rolled_back, and there is nothing further to go back to
    assert (rolled.version, rolled.status, now_live.version, now_live.status) == (2, Status.ROLLED_BACK, 1, Status.LIVE)
    assert registry.get_alias("m", "previous") is None
    with pytest.raises(RegistryError):
        registry.rollback("m", reason="again", actor="t", correlation_id="c")


def test_rollback_keeps_an_older_known_good_version_as_previous(registry: DynamoDBRegistry) -> None:
    for lambda_version in ("1", "2", "3"):
        registry.promote("m", _approved(registry), lambda_version=lambda_version, reason="r", actor="t",
                         correlation_id="c")
    registry.rollback("m", reason="alarm", actor="t", correlation_id="c")
    live, previous = registry.get_alias("m", "live"), registry.get_alias("m", "previous")
    assert (live and live.version, previous and previous.version) == (2, 1)


def test_promote_refuses_a_version_that_is_not_approved(registry: DynamoDBRegistry) -> None:
    claimed = registry.claim_version("m", data_version="d", code_version="c", lineage={}, actor="t",
                                     correlation_id="c")
    with pytest.raises(IllegalTransitionError):
        registry.promote("m", claimed.version, lambda_version="1", reason="r", actor="t", correlation_id="c")


def test_a_stale_alias_write_loses_the_race(registry: DynamoDBRegistry) -> None:
    # GIVEN a writer that read the live alias before another promotion moved it
    first = _approved(registry)
    registry.promote("m", first, lambda_version="1", reason="r", actor="t", correlation_id="c")
    stale = registry.get_alias("m", "live")
    second = _approved(registry)
    registry.promote("m", second, lambda_version="2", reason="r", actor="t", correlation_id="c")
    # WHEN it writes with the stale revision THEN the conditional write is refused
    now = "2026-01-01T00:00:00.000000Z"
    with pytest.raises(ConcurrentUpdateError):
        registry._transact([registry._alias_put("m", "live", 1, "1", stale, now)])


def test_datasets_are_recorded_once_and_sources_accumulate(registry: DynamoDBRegistry) -> None:
    record = DatasetRecord(model="m", data_version="abc", rows=10, data_key="k", sources=("s3://b/one.csv",),
                           accepted_at="2026-01-01T00:00:00Z")
    assert registry.record_dataset(record) is True
    assert registry.record_dataset(record.__class__(**{**record.__dict__, "sources": ("s3://b/two.csv",)})) is False
    latest = registry.latest_dataset("m")
    assert latest is not None and latest.data_version == "abc"


def test_datasets_are_listed_in_order_of_acceptance_with_their_origin(registry: DynamoDBRegistry) -> None:
    # GIVEN two drops and a feedback dataset recorded out of order
    for version, at, origin in (("b", "2026-02-01T00:00:00.000000Z", "drop"), ("a", "2026-01-01T00:00:00.000000Z",
                                "drop"), ("f", "2026-03-01T00:00:00.000000Z", "feedback")):
        registry.record_dataset(DatasetRecord(model="m", data_version=version, rows=1, data_key=f"k/{version}",
                                              sources=(), accepted_at=at, origin=origin))
    # WHEN they are listed THEN they come oldest first, each with its origin
    listed = registry.list_datasets("m")
    assert [(d.data_version, d.origin) for d in listed] == [("a", "drop"), ("b", "drop"), ("f", "feedback")]
    # AND the latest drop is still the latest dataset: feedback never becomes it
    assert registry.latest_dataset("m").data_version == "b"  # type: ignore[union-attr]
    assert registry.list_datasets("other") == []


def test_deploy_lock_admits_one_owner_at_a_time(registry: DynamoDBRegistry) -> None:
    registry.acquire_deploy_lock("m", owner="first", ttl_s=60)
    with pytest.raises(DeployLockHeldError, match="first"):
        registry.acquire_deploy_lock("m", owner="second", ttl_s=60)
    registry.acquire_deploy_lock("other-model", owner="second", ttl_s=60)
    registry.release_deploy_lock("m", owner="first")
    registry.acquire_deploy_lock("m", owner="second", ttl_s=60)
