"""The full loop of the story on the local stack: drop → validate → train → evaluate → deploy → predict
→ scheduled retrain (a recorded no-op on unchanged data) → a grown delivery retrains → alarm → rollback, with
duplicate delivery along the way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sluice.demo import samples
from sluice.registry import DynamoDBRegistry, Status
from sluice.storage import accepted_data_key

MODEL = "breast-cancer"
pytestmark = pytest.mark.slow


def _registry(cloud: Any) -> DynamoDBRegistry:
    return DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)


def _events(cloud: Any, detail_type: str) -> list[dict[str, Any]]:
    return [e.detail for e in cloud.timeline if e.kind == "event" and e.name == detail_type]


def _object_created(cloud: Any, event: Any, key: str) -> dict[str, Any]:
    head = cloud.clients.s3.head_object(Bucket=cloud.settings.data_bucket, Key=key)
    sample = event("s3_object_created.json")
    sample["detail"]["bucket"]["name"] = cloud.settings.data_bucket
    sample["detail"]["object"].update({"key": key, "etag": head["ETag"].strip('"'),
                                       "size": head["ContentLength"], "version-id": head.get("VersionId")})
    return sample


def _first_rows(source: Path, rows: int, target: Path) -> Path:
    """The header and the first ``rows`` rows of ``source`` (an earlier, smaller delivery of the same data)."""
    target.write_text("".join(source.read_text().splitlines(keepends=True)[: rows + 1]))
    return target


def test_the_whole_lifecycle(cloud: Any, event: Any, tmp_path: Path) -> None:
    registry = _registry(cloud)
    # GIVEN a real dataset (its first 450 rows: the delivery so far) dropped under incoming/<model>/
    key = cloud.drop(_first_rows(samples.BREAST_CANCER, 450, tmp_path / "breast_cancer_1.csv"), MODEL)
    # WHEN the events flow
    cloud.run_until_idle()
    # THEN it was accepted as a content-addressed data version, trained, approved and deployed as v1
    (accepted,) = _events(cloud, "DatasetAccepted")
    data_version = accepted["data_version"]
    assert cloud.clients.s3.head_object(Bucket=cloud.settings.data_bucket, Key=accepted_data_key(MODEL, data_version))
    (evaluated,) = _events(cloud, "ModelEvaluated")
    assert evaluated["approved"] is True and evaluated["metrics"]["roc_auc"] > 0.95
    live = registry.get_alias(MODEL, "live")
    assert live is not None and live.version == 1
    v1 = registry.get_version(MODEL, 1)
    assert v1.status is Status.LIVE and v1.data_version == data_version and len(v1.artifact_sha256) == 64
    assert v1.code_version and v1.params and v1.metrics

    # WHEN the same S3 event is delivered three more times (at-least-once delivery)
    duplicate = _object_created(cloud, event, key)
    results = [cloud.invoke("validate_dataset", duplicate) for _ in range(3)]
    cloud.run_until_idle()
    # THEN still one data version and one model version
    assert len({result["data_version"] for result in results}) == 1
    assert len(registry.list_versions(MODEL)) == 1
    assert len(_events(cloud, "DatasetAccepted")) == 1

    # WHEN a client asks for predictions over the V1 protocol
    features, truth = samples.instances(samples.BREAST_CANCER, "diagnosis", 20, start=100)
    response = cloud.predict(MODEL, features)
    # THEN version 1 answers, and it is right about most rows
    assert response.status == 200 and response.body["model_version"] == "1"
    assert sum(p == t for p, t in zip(response.body["predictions"], truth, strict=True)) >= 17

    # WHEN the retrain schedule fires before any new data arrived
    cloud.fire_schedule(MODEL)
    cloud.run_until_idle()
    # THEN it is a recorded no-op: no version 2, a TrainingSkipped event naming v1, an audit entry
    assert len(registry.list_versions(MODEL)) == 1
    (skipped,) = _events(cloud, "TrainingSkipped")
    assert skipped["same_as_version"] == 1 and skipped["data_version"] == data_version
    assert any(entry.change == "skipped (unchanged)" for entry in registry.history(MODEL))

    # WHEN the grown dataset is delivered (every row: the dataset so far and the new rows)
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle()
    # THEN version 2 trained on the new data version, passed the gate against v1, and is released by the
    # model's strategy (sluice.toml: a 10% canary, promoted by the bake check once its bake time is over)
    grown = _events(cloud, "DatasetAccepted")[-1]["data_version"]
    assert grown != data_version
    assert registry.get_version(MODEL, 2).status is Status.CANARY, registry.get_version(MODEL, 2).gate_reasons
    for _ in range(200):
        cloud.predict(MODEL, features)
    cloud.advance(cloud.config.model(MODEL).deployment.bake_minutes)
    cloud.fire_schedule(MODEL, "deployment-check")
    cloud.run_until_idle()
    v2 = registry.get_version(MODEL, 2)
    assert v2.status is Status.LIVE and v2.lineage["data_versions"][-1] == grown and v2.live_metrics
    assert v2.artifact_sha256 != v1.artifact_sha256
    assert registry.get_version(MODEL, 1).status is Status.PREVIOUS
    assert cloud.predict(MODEL, features).body["model_version"] == "2"

    # WHEN the endpoint's error alarm goes to ALARM (twice: duplicate delivery)
    cloud.set_alarm(MODEL, "errors")
    cloud.run_until_idle()
    # THEN live is back on v1, v2 is rolled_back, and the old version answers
    assert registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    assert registry.get_version(MODEL, 2).status is Status.ROLLED_BACK
    assert cloud.predict(MODEL, features).body["model_version"] == "1"
    assert len(_events(cloud, "ModelRolledBack")) == 1
    # AND every change is in the audit trail
    changes = [(entry.subject, entry.change) for entry in registry.history(MODEL)]
    assert ("v2", "live → rolled_back") in changes and ("v1", "previous → live") in changes


def test_models_are_independent(cloud: Any) -> None:
    # GIVEN data for two models dropped together
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.drop(samples.DIABETES, "diabetes")
    cloud.run_until_idle()
    registry = _registry(cloud)
    # THEN each has its own v1 live, and each endpoint serves its own model
    assert registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    assert registry.get_alias("diabetes", "live").version == 1  # type: ignore[union-attr]
    features, _ = samples.instances(samples.DIABETES, "progression", 3)
    response = cloud.predict("diabetes", features)
    assert response.status == 200 and all(isinstance(value, float) for value in response.body["predictions"])
    # AND an alarm on one model rolls back nothing on the other (no previous: a recorded no-op)
    cloud.set_alarm("diabetes", "errors")
    cloud.run_until_idle()
    (skipped,) = _events(cloud, "RollbackSkipped")
    assert skipped["model"] == "diabetes"
    assert registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
