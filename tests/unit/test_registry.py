"""What only one backend shows: the declared state machine, and the DynamoDB backend's own layout and conditions.

Every behaviour both backends share is pinned by test_registry_contract.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sluice.registry import (
    ConcurrentUpdateError,
    DynamoDBRegistry,
    IllegalTransitionError,
    Status,
    check_transition,
)
from tests.unit.test_registry_contract import TABLE, registry_table


@pytest.fixture
def table() -> Iterator[Any]:
    with registry_table() as client:
        yield client


def _approved(registry: DynamoDBRegistry) -> int:
    version = registry.claim_version("m", data_version="d1", code_version="0.1", lineage={}, actor="t",
                                     correlation_id="c").version
    registry.transition("m", version, to=Status.CANDIDATE, reason="trained", actor="t", correlation_id="c")
    registry.transition("m", version, to=Status.APPROVED, reason="gate", actor="t", correlation_id="c")
    return version


def test_declared_transitions_refuse_leaving_terminal_states() -> None:
    for terminal in (Status.REJECTED, Status.FAILED, Status.RETIRED):
        with pytest.raises(IllegalTransitionError):
            check_transition(terminal, Status.LIVE)


def test_a_stale_alias_write_loses_the_race(table: Any) -> None:
    # GIVEN a writer that read the live alias before another promotion moved it
    registry = DynamoDBRegistry(table, TABLE)
    registry.promote("m", _approved(registry), lambda_version="1", reason="r", actor="t", correlation_id="c")
    stale = registry.get_alias("m", "live")
    registry.promote("m", _approved(registry), lambda_version="2", reason="r", actor="t", correlation_id="c")
    # WHEN it writes with the stale revision THEN the conditional write is refused
    now = "2026-01-01T00:00:00.000000Z"
    with pytest.raises(ConcurrentUpdateError):
        registry._transact([registry._alias_put("m", "live", 1, "1", stale, now)])


def test_the_release_lock_and_the_retrain_guard_keep_their_items(table: Any) -> None:
    # GIVEN both leases taken and the retrain lease released with a cool-down
    registry = DynamoDBRegistry(table, TABLE, clock=lambda: 1_800_000_000.0)
    registry.acquire_lease("m", "deploy", owner="deploy_model:m:v2", ttl_s=300)
    registry.acquire_lease("m", "retrain", owner="drift", ttl_s=900, trigger="DriftDetected")
    registry.release_lease("m", "retrain", owner="drift", cooldown_s=600)
    # THEN they sit where the release lock and the retrain guard always were, so leases held during an upgrade
    # (and a cool-down that runs) are still honoured
    items = {item["sk"]["S"]: item for item in table.scan(TableName=TABLE)["Items"]}
    assert items["LOCK#deploy"]["owner"] == {"S": "deploy_model:m:v2"}
    assert items["LOCK#deploy"]["lease_until"] == {"N": "1800000300"}
    assert items["RETRAIN#guard"]["trigger"] == {"S": "DriftDetected"}
    assert (items["RETRAIN#guard"]["lease_until"], items["RETRAIN#guard"]["cooldown_until"]) == (
        {"N": "0"}, {"N": "1800000600"})
    # AND any other lease gets an item of its own
    registry.acquire_lease("m", "backfill", owner="x", ttl_s=60)
    assert registry.get_lease("m", "backfill") is not None
    assert "LEASE#backfill" in {item["sk"]["S"] for item in table.scan(TableName=TABLE)["Items"]}
