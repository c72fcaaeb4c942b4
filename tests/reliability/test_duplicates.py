"""At-least-once delivery: every event three times, in random order, some copies long after → no duplicate effect."""

from __future__ import annotations

from tests.reliability.conftest import CloudFactory, play_story
from tests.reliability.harness import Dispatcher, assert_gap_free, leftovers, snapshot


def test_every_event_three_times_out_of_order_has_the_effect_of_once(new_cloud: CloudFactory) -> None:
    # GIVEN the story played with every event delivered once, in order
    cloud = new_cloud()
    once = Dispatcher(cloud)
    play_story(cloud, once)
    expected, expected_events = snapshot(cloud), once.published
    # WHEN it is played again with every event delivered three times: two copies shuffled together with
    # everything else in flight, the third held back until after the rollback (the oldest arrive last)
    cloud = new_cloud()
    thrice = Dispatcher(cloud, copies=2, late_copies=1, seed=7)
    play_story(cloud, thrice)
    redelivered = thrice.deliver_late()
    # THEN registry, buckets, endpoint and the published events are exactly those of the single delivery
    assert redelivered > 0
    assert snapshot(cloud) == expected
    assert thrice.published == expected_events
    assert leftovers(cloud) == {"stuck_versions": [], "locks": [], "unfinished_idempotency": []}
    assert_gap_free(cloud)
    # and the story did happen: a drop quarantined, trained twice (the grown file; the schedule found nothing
    # new), v1 live again after the alarm
    model = expected["models"]["breast-cancer"]
    assert len(model["versions"]) == 2 and model["aliases"]["live"] == 1
    assert expected_events["DatasetRejected"] == 1 and expected_events["TrainingSkipped"] == 1
    assert expected_events["ModelRolledBack"] + expected_events["DeploymentAborted"] == 1
