"""Twenty drops for two models at once, on four workers invoking handlers at the same time: each processed exactly
once, versions unique and gap-free, no handler failing."""

from __future__ import annotations

import csv
import io
import threading
from collections import Counter
from typing import Any

import pytest

from sluice.demo import samples
from sluice.local import LocalCloud
from tests.reliability.conftest import CloudFactory
from tests.reliability.harness import Dispatcher, assert_gap_free, leftovers, registry_of

DROPS_PER_MODEL = 10
SOURCES = {"breast-cancer": (samples.BREAST_CANCER, 20), "diabetes": (samples.DIABETES, 12)}
WORKERS = 4
DEADLOCK_GUARD_S = 300  # a held training waits for its twin at most this long (a sequential harness never sends it)


def _subset(path: object, start: int, rows: int = 300) -> bytes:
    """A distinct, valid extract: ``rows`` consecutive rows from ``start``."""
    table = samples.read_rows(path)  # type: ignore[arg-type]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(table[0]))
    writer.writeheader()
    writer.writerows(table[start : start + rows])
    return buffer.getvalue().encode()


class TrainingsHeldInPairs:
    """Wraps ``LocalCloud.invoke``: each model's first two trainings wait for each other before running, so they
    claim their versions at the same time; records which trainings were running together."""

    def __init__(self, cloud: LocalCloud) -> None:
        self._invoke = cloud.invoke
        self._lock = threading.Lock()
        self._barriers = {model: threading.Barrier(2, timeout=DEADLOCK_GUARD_S) for model in SOURCES}
        self._held: Counter[str] = Counter()
        self._running: Counter[str] = Counter()
        self.most_at_once: Counter[str] = Counter()
        """Per model, the most trainings that were running at the same moment."""

    def __call__(self, function: str, event: dict[str, Any]) -> Any:
        if function != "train_model":
            return self._invoke(function, event)
        model = str(event["detail"]["model"])
        with self._lock:
            self._held[model] += 1
            held = self._held[model] <= 2
            self._running[model] += 1
            self.most_at_once[model] = max(self.most_at_once[model], self._running[model])
        try:
            if held:
                self._barriers[model].wait()
            return self._invoke(function, event)
        finally:
            with self._lock:
                self._running[model] -= 1


def test_twenty_concurrent_drops_are_each_processed_exactly_once(new_cloud: CloudFactory,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN 20 distinct files dropped for two models before anything runs (their events all in flight), and each
    # model's first two trainings held until both have started
    cloud = new_cloud()
    for index in range(DROPS_PER_MODEL):
        for model, (path, step) in SOURCES.items():
            cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=f"incoming/{model}/part-{index}.csv",
                                        Body=_subset(path, index * step))
    trainings = TrainingsHeldInPairs(cloud)
    monkeypatch.setattr(cloud, "invoke", trainings)
    # WHEN every event is delivered in random order by four workers invoking handlers at the same time
    dispatcher = Dispatcher(cloud, seed=3, workers=WORKERS)
    dispatcher.run()
    # THEN handlers did run at the same time (two trainings of one model at once), and not one of them failed
    assert dispatcher.max_in_flight > 1
    assert min(trainings.most_at_once[model] for model in SOURCES) >= 2
    assert dispatcher.failures == []
    # AND each drop was accepted once and trained once: versions 1..10 per model, one per accepted data version
    registry = registry_of(cloud)
    assert dispatcher.published["DatasetAccepted"] == 2 * DROPS_PER_MODEL
    assert dispatcher.published["ModelTrained"] == 2 * DROPS_PER_MODEL
    assert dispatcher.published["ModelEvaluated"] == 2 * DROPS_PER_MODEL
    for model in SOURCES:
        versions = registry.list_versions(model)
        assert [v.version for v in versions] == list(range(1, DROPS_PER_MODEL + 1))
        accepted = {record.data_version for record in registry.list_datasets(model)}
        assert sorted(v.data_version for v in versions) == sorted(accepted) and len(accepted) == DROPS_PER_MODEL
        # AND one audit entry per change: no version moved to the same status twice
        changes = Counter((entry.subject, entry.change) for entry in registry.history(model))
        assert [change for change, count in changes.items() if count > 1] == []
    assert_gap_free(cloud)
    assert leftovers(cloud) == {"stuck_versions": [], "locks": [], "unfinished_idempotency": []}
