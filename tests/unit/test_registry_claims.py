"""Claims with a key: a rerun of the same training resumes its version, never leaves a gap or a stuck one."""

from __future__ import annotations

from typing import Any

from sluice.registry import DynamoDBRegistry, Status
from tests.unit.test_registry import registry  # noqa: F401  (the moto-backed registry fixture)


def _claim(store: DynamoDBRegistry, key: str | None, data_version: str = "d1") -> Any:
    return store.claim_version("m", data_version=data_version, code_version="c", lineage={}, actor="t",
                                  correlation_id="c", claim_key=key)


def test_claiming_again_with_the_same_key_returns_the_first_claim(registry: DynamoDBRegistry) -> None:  # noqa: F811
    # GIVEN a training that claimed v1 and crashed before its artifacts
    first = _claim(registry, "DatasetAccepted:drop-1:d1")
    # WHEN the rerun claims with the same key
    again = _claim(registry, "DatasetAccepted:drop-1:d1")
    # THEN it resumes v1: one version, still training, one audit entry
    assert (first.version, again.version, again.status) == (1, 1, Status.TRAINING)
    assert [v.version for v in registry.list_versions("m")] == [1]
    assert len(registry.history("m")) == 1


def test_a_rerun_after_the_training_ended_sees_its_outcome(registry: DynamoDBRegistry) -> None:  # noqa: F811
    claimed = _claim(registry, "k")
    registry.transition("m", claimed.version, to=Status.CANDIDATE, reason="trained", actor="t", correlation_id="c")
    assert _claim(registry, "k").status is Status.CANDIDATE


def test_other_keys_and_keyless_claims_take_the_next_numbers(registry: DynamoDBRegistry) -> None:  # noqa: F811
    versions = [_claim(registry, "a").version, _claim(registry, "b", "d2").version, _claim(registry, None).version,
                _claim(registry, "a").version]
    assert versions == [1, 2, 3, 1]
    assert [v.version for v in registry.list_versions("m")] == [1, 2, 3]
