"""Twenty drops for two models at once, on four workers invoking handlers at the same time: each processed exactly
once, versions unique and gap-free, no handler failing."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

import pytest

from sluice.demo import samples
from sluice.registry import Status
from tests.reliability.conftest import CloudFactory
from tests.reliability.harness import (
    Dispatcher,
    FailureKind,
    HeldTogether,
    assert_gap_free,
    leftovers,
    registry_of,
    snapshot,
)

DROPS_PER_MODEL = 10
SOURCES = {"breast-cancer": (samples.BREAST_CANCER, 20), "diabetes": (samples.DIABETES, 12)}
WORKERS = 4


def _subset(path: object, start: int, rows: int = 300) -> bytes:
    """A distinct, valid extract: ``rows`` consecutive rows from ``start``."""
    table = samples.read_rows(path)  # type: ignore[arg-type]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(table[0]))
    writer.writeheader()
    writer.writerows(table[start : start + rows])
    return buffer.getvalue().encode()


def _training_of(function: str, event: dict[str, Any]) -> str | None:
    return str(event["detail"]["model"]) if function == "train_model" else None


def test_twenty_concurrent_drops_are_each_processed_exactly_once(new_cloud: CloudFactory,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN 20 distinct files dropped for two models before anything runs (their events all in flight), and each
    # model's first two trainings held until both have started
    cloud = new_cloud()
    for index in range(DROPS_PER_MODEL):
        for model, (path, step) in SOURCES.items():
            cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=f"incoming/{model}/part-{index}.csv",
                                        Body=_subset(path, index * step))
    trainings = HeldTogether(_training_of)
    trainings.install(cloud, monkeypatch)
    # WHEN every event is delivered in random order by four workers invoking handlers at the same time
    dispatcher = Dispatcher(cloud, seed=3, workers=WORKERS)
    dispatcher.run()
    # THEN handlers did run at the same time (two trainings of one model at once), and none failed but a deploy
    # finding the model's deploy lease held by another deploy running at that moment (raised to be retried)
    assert dispatcher.max_in_flight > 1
    assert min(trainings.most_at_once[model] for model in SOURCES) >= 2
    assert set(dispatcher.failure_kinds()) <= {FailureKind.CONTENDED}, dispatcher.failures
    # AND each drop was accepted once and trained once: versions 1..10 per model, one per accepted data version
    registry = registry_of(cloud)
    endpoints = {model: state["endpoint"] for model, state in snapshot(cloud)["models"].items()}
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
        # AND one version live, the one alias ``live`` (registry and Lambda) points at; one release at a time
        statuses = Counter(v.status for v in versions)
        (live,) = [v for v in versions if v.status is Status.LIVE]
        assert getattr(registry.get_alias(model, "live"), "version", None) == live.version
        assert endpoints[model]["live"] == live.lambda_version
        assert statuses[Status.CANARY] <= 1
    assert_gap_free(cloud)
    print(f"\nconcurrency: {dispatcher.max_in_flight} invocations at once at most, "
          f"failures {dict(dispatcher.failure_kinds())}")
    assert leftovers(cloud) == {"stuck_versions": [], "locks": [], "unfinished_idempotency": []}
