"""At-least-once delivery: every event three times, in random order, on four workers at once, some copies long
after → no duplicate effect, and no handler failing except a copy refused while its twin was running."""

from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.conftest import CloudFactory, play_story
from tests.reliability.harness import (
    Dispatcher,
    FailureKind,
    HeldTogether,
    assert_gap_free,
    leftovers,
    snapshot,
)

WORKERS = 4


def _first_drop(function: str, event: dict[str, Any]) -> str | None:
    """The validations of the first drop (early.csv): its two in-time copies are held together."""
    key = str(event.get("detail", {}).get("object", {}).get("key", ""))
    return "early.csv" if function == "validate_dataset" and key.endswith("/early.csv") else None


def test_every_event_three_times_out_of_order_has_the_effect_of_once(new_cloud: CloudFactory,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the story played with every event delivered once, in order, one at a time
    cloud = new_cloud()
    once = Dispatcher(cloud)
    play_story(cloud, once)
    expected, expected_events = snapshot(cloud), once.published
    assert once.failures == []
    # WHEN it is played again with every event delivered three times on four workers at once: two copies shuffled
    # together with everything else in flight (the first drop's two copies validated at the same moment), the
    # third held back until after the rollback (the oldest arrive last)
    cloud = new_cloud()
    twins = HeldTogether(_first_drop)
    twins.install(cloud, monkeypatch)
    thrice = Dispatcher(cloud, copies=2, late_copies=1, seed=7, workers=WORKERS)
    play_story(cloud, thrice)
    redelivered = thrice.deliver_late()
    # THEN copies did run at the same time, and the only failures were copies Powertools refused while their twin
    # was running (retried after it, as Lambda retries them)
    assert twins.most_at_once["early.csv"] == 2 and thrice.max_in_flight > 1
    assert set(thrice.failure_kinds()) <= {FailureKind.BUSY}, thrice.failures
    # AND registry, buckets, endpoint and the published events are exactly those of the single delivery
    assert redelivered > 0
    assert snapshot(cloud) == expected
    assert thrice.published == expected_events
    assert leftovers(cloud) == {"stuck_versions": [], "locks": [], "unfinished_idempotency": []}
    assert_gap_free(cloud)
    # AND the story did happen: a drop quarantined, trained twice (the grown file; the schedule found nothing
    # new), v1 live again after the alarm
    model = expected["models"]["breast-cancer"]
    assert len(model["versions"]) == 2 and model["aliases"]["live"] == 1
    assert expected_events["DatasetRejected"] == 1 and expected_events["TrainingSkipped"] == 1
    # (breast-cancer releases by canary, so the alarm aborts v2's release rather than rolling a live v2 back)
    assert expected_events["DeploymentAborted"] == 1 and expected_events["ModelRolledBack"] == 0
    print(f"\nduplicates: {thrice.max_in_flight} invocations at once at most, "
          f"failures {dict(thrice.failure_kinds())}")
