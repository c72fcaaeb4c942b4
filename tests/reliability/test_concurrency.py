"""Twenty drops for two models at once: each processed exactly once, versions unique and gap-free."""

from __future__ import annotations

import csv
import io

from sluice.demo import samples
from tests.reliability.conftest import CloudFactory
from tests.reliability.harness import Dispatcher, assert_gap_free, leftovers, registry_of

DROPS_PER_MODEL = 10
SOURCES = {"breast-cancer": (samples.BREAST_CANCER, 20), "diabetes": (samples.DIABETES, 12)}


def _subset(path: object, start: int, rows: int = 300) -> bytes:
    """A distinct, valid extract: ``rows`` consecutive rows from ``start``."""
    table = samples.read_rows(path)  # type: ignore[arg-type]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(table[0]))
    writer.writeheader()
    writer.writerows(table[start : start + rows])
    return buffer.getvalue().encode()


def test_twenty_concurrent_drops_are_each_processed_exactly_once(new_cloud: CloudFactory) -> None:
    # GIVEN 20 distinct files dropped for two models before anything runs (their events all in flight)
    cloud = new_cloud()
    for index in range(DROPS_PER_MODEL):
        for model, (path, step) in SOURCES.items():
            cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=f"incoming/{model}/part-{index}.csv",
                                        Body=_subset(path, index * step))
    # WHEN every event is delivered interleaved across both models, in random order
    dispatcher = Dispatcher(cloud, seed=3)
    dispatcher.run()
    # THEN each drop was accepted once and trained once: versions 1..10 per model, one per data version
    registry = registry_of(cloud)
    assert dispatcher.published["DatasetAccepted"] == 2 * DROPS_PER_MODEL
    assert dispatcher.published["ModelTrained"] == 2 * DROPS_PER_MODEL
    assert dispatcher.published["ModelEvaluated"] == 2 * DROPS_PER_MODEL
    for model in SOURCES:
        versions = registry.list_versions(model)
        assert [v.version for v in versions] == list(range(1, DROPS_PER_MODEL + 1))
        assert len({v.data_version for v in versions}) == DROPS_PER_MODEL
        assert registry.get_alias(model, "live") is not None
    assert_gap_free(cloud)
    assert leftovers(cloud) == {"stuck_versions": [], "locks": [], "unfinished_idempotency": []}
