"""A handler that dies after its state change but before announcing it: the rerun announces it (nothing lost)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sluice.demo import samples
from sluice.events import DetailType, EventPublisher
from sluice.registry import DynamoDBRegistry, Status
from tests.conftest import REPO

pytestmark = pytest.mark.slow
GROWN = "breast-cancer"


@pytest.fixture
def all_at_once(tmp_path: Path) -> Iterator[Any]:
    """The local stack with every model released all at once."""
    from sluice.local import LocalCloud
    from tests.integration.releases import config_with

    with LocalCloud(config_with(tmp_path, {}), functions_dir=REPO / "functions") as local:
        yield local


def _die_once_before(monkeypatch: pytest.MonkeyPatch, announcement: DetailType) -> None:
    """The first publish of ``announcement`` kills the run (as a timeout or a crash would)."""
    real = EventPublisher.publish
    died: list[bool] = []

    def publish(self: EventPublisher, detail_type: DetailType, detail: dict[str, Any]) -> Any:
        if detail_type is announcement and not died:
            died.append(True)
            raise ConnectionError(f"killed before announcing {detail_type.value}")
        return real(self, detail_type, detail)

    monkeypatch.setattr(EventPublisher, "publish", publish)


def _events(cloud: Any, name: str) -> list[dict[str, Any]]:
    return [entry.detail for entry in cloud.timeline if entry.kind == "event" and entry.name == name]


def _recording(cloud: Any, monkeypatch: pytest.MonkeyPatch, function: str) -> list[dict[str, Any]]:
    delivered: list[dict[str, Any]] = []
    invoke = cloud.invoke

    def record(name: str, event: dict[str, Any]) -> Any:
        if name == function:
            delivered.append(event)
        return invoke(name, event)

    monkeypatch.setattr(cloud, "invoke", record)
    return delivered


def test_a_deployment_that_died_before_announcing_announces_on_rerun(cloud: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN deploy_model dies right after making v1 live, before ModelDeployed
    delivered = _recording(cloud, monkeypatch, "deploy_model")
    _die_once_before(monkeypatch, DetailType.MODEL_DEPLOYED)
    cloud.drop(samples.DIABETES, "diabetes")
    cloud.run_until_idle(raise_errors=False)
    registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
    assert registry.get_version("diabetes", 1).status is Status.LIVE and not _events(cloud, "ModelDeployed")
    # WHEN Lambda retries the failed invocation with the same event
    result = cloud.invoke("deploy_model", delivered[-1])
    cloud.run_until_idle()
    # THEN the deployment is announced, and nothing else changed
    assert result["outcome"] == "already_live"
    (announced,) = _events(cloud, "ModelDeployed")
    assert announced["version"] == 1
    assert announced["lambda_version"] == registry.get_version("diabetes", 1).lambda_version
    assert [v.version for v in registry.list_versions("diabetes")] == [1]


def test_a_rollback_that_died_before_announcing_announces_on_rerun(all_at_once: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cloud = all_at_once
    # GIVEN v2 (the grown file) live after v1 (its first 450 rows; all at once), and rollback_model dying after
    # the rollback, before announcing
    rows = samples.BREAST_CANCER.read_text().splitlines(keepends=True)
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=f"incoming/{GROWN}/early.csv",
                                Body="".join(rows[:451]).encode())
    cloud.run_until_idle()
    cloud.drop(samples.BREAST_CANCER, GROWN)
    cloud.run_until_idle()
    registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
    assert registry.get_alias(GROWN, "live").version == 2  # type: ignore[union-attr]
    delivered = _recording(cloud, monkeypatch, "rollback_model")
    _die_once_before(monkeypatch, DetailType.MODEL_ROLLED_BACK)
    cloud.set_alarm(GROWN, "errors")
    cloud.run_until_idle(raise_errors=False)
    assert registry.get_alias(GROWN, "live").version == 1  # type: ignore[union-attr]
    assert not _events(cloud, "ModelRolledBack")
    # WHEN the alarm event is delivered again (the retry of the failed invocation)
    result = cloud.invoke("rollback_model", delivered[-1])
    cloud.run_until_idle()
    # THEN the rollback is announced once, not ignored as stale and not repeated
    assert (result["outcome"], result["from_version"], result["to_version"]) == ("rolled_back", 2, 1)
    (announced,) = _events(cloud, "ModelRolledBack")
    assert (announced["version"], announced["rolled_back_version"]) == (1, 2)
    assert registry.get_alias(GROWN, "live").version == 1  # type: ignore[union-attr]
    assert registry.get_version(GROWN, 2).status is Status.ROLLED_BACK
