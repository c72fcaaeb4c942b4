"""Promotion dev → prod on two local stages (two LocalClouds on one embedded AWS, prefixes sluice-dev and
sluice-prod; sluice.toml as shipped: ``[stages.prod] source = "promotion"``).

The dev versions are copies of versions the real pipeline trained once per session (tests/integration/releases.py);
prod gets them only through ``sluice.promotion`` and releases them through its own deploy_model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from sluice.cli.app import app
from sluice.demo import samples
from sluice.local import LocalCloud, ScriptedMeter
from sluice.promotion import PromotionRefusedError, promote
from sluice.registry import Status
from sluice.storage import model_prefix
from tests.conftest import REPO
from tests.integration.releases import DATASETS, MODEL, approved, config_with, events, live_with, registry_of


def _two_stages(tmp_path: Path, deployment: dict[str, Any]) -> Iterator[tuple[LocalCloud, LocalCloud]]:
    config = config_with(tmp_path, {MODEL: deployment})  # sluice.toml: [stages.prod] promotion
    dev = LocalCloud(config, prefix="sluice-dev", functions_dir=REPO / "functions", meter=ScriptedMeter()).start()
    try:
        prod = LocalCloud(config, prefix="sluice-prod", functions_dir=REPO / "functions",
                          meter=ScriptedMeter()).start()
        try:
            yield dev, prod
        finally:
            prod.stop()
    finally:
        dev.stop()


@pytest.fixture
def stages(tmp_path: Path) -> Iterator[tuple[LocalCloud, LocalCloud]]:
    """dev and prod on one embedded AWS; every release all at once (the strategy is not what is tested here)."""
    yield from _two_stages(tmp_path, {"strategy": "all_at_once"})


@pytest.fixture
def gated_stages(tmp_path: Path) -> Iterator[tuple[LocalCloud, LocalCloud]]:
    """As ``stages``, with the model's releases waiting for a manual approval."""
    yield from _two_stages(tmp_path, {"strategy": "all_at_once", "approval": "manual"})


def _end(cloud: LocalCloud) -> Any:
    from sluice.cli.promote_command import stage_end

    return stage_end(cloud.settings)


def _promote(dev: LocalCloud, prod: LocalCloud, version: int) -> Any:
    """Promote dev's ``version`` as the operator, then let prod's functions handle what it announced."""
    operator = boto3.client("sts").get_caller_identity()["Arn"]
    result = promote(_end(dev), _end(prod), MODEL, version, promoted_by=operator)
    prod.run_until_idle()
    return result


def _answers(cloud: LocalCloud) -> dict[str, Any]:
    path, target = DATASETS[MODEL]
    features, _ = samples.instances(path, target, 5, start=10)
    response = cloud.predict(MODEL, features)
    assert response.status == 200, response.body
    return response.body


def test_a_promoted_version_serves_the_same_predictions_in_prod_and_rolls_back_there(
        trained: Any, stages: tuple[LocalCloud, LocalCloud]) -> None:
    dev, prod = stages
    # GIVEN dev with v1 live and v2 approved
    live_with(dev, trained[MODEL])
    approved(dev, trained[MODEL])
    # WHEN v1 is promoted to prod (twice: the second is a no-op)
    first = _promote(dev, prod, 1)
    again = _promote(dev, prod, 1)
    # THEN prod has exactly one version: live, the same artifact, with the promotion's lineage
    prod_registry, dev_registry = registry_of(prod), registry_of(dev)
    assert (first.outcome, again.outcome, first.target_version) == ("promoted", "already_promoted", 1)
    assert [(v.version, v.status) for v in prod_registry.list_versions(MODEL)] == [(1, Status.LIVE)]
    promoted, source = prod_registry.get_version(MODEL, 1), dev_registry.get_version(MODEL, 1)
    assert promoted.artifact_sha256 == source.artifact_sha256
    lineage = promoted.lineage["promotion"]
    assert (lineage["source_stage"], lineage["source_version"], lineage["source_data_version"]) == ("dev", 1, "d")
    assert lineage["promoted_by"].startswith("arn:aws:")
    # AND prod's endpoint answers exactly as dev's does (same predictions and probabilities)
    dev_answer, prod_answer = _answers(dev), _answers(prod)
    assert (prod_answer["predictions"], prod_answer["probabilities"]) == (dev_answer["predictions"],
                                                                          dev_answer["probabilities"])
    assert prod_answer["model_version"] == "1"
    # AND prod's card says where the version came from
    card = prod.clients.s3.get_object(Bucket=prod.settings.artifact_bucket,
                                      Key=model_prefix(MODEL, 1) + "model_card.json")["Body"].read()
    assert json.loads(card)["promotion"]["source_stage"] == "dev"
    # WHEN dev's v2 is promoted too, then prod's errors alarm fires
    assert _promote(dev, prod, 2).target_version == 2
    assert prod_registry.get_alias(MODEL, "live").version == 2  # type: ignore[union-attr]
    prod.advance(5)
    prod.set_alarm(MODEL, "errors")
    prod.run_until_idle()
    # THEN prod rolls back to its previous version, v1; dev is untouched
    assert prod_registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    assert prod_registry.get_version(MODEL, 2).status is Status.ROLLED_BACK
    assert _answers(prod)["model_version"] == "1"
    assert [v.status for v in dev_registry.list_versions(MODEL)] == [Status.LIVE, Status.APPROVED]


def test_a_changed_dev_artifact_is_refused_and_prod_gets_nothing(trained: Any,
                                                                 stages: tuple[LocalCloud, LocalCloud]) -> None:
    dev, prod = stages
    # GIVEN dev's live v1 whose model file was replaced after training
    live_with(dev, trained[MODEL])
    dev.clients.s3.put_object(Bucket=dev.settings.artifact_bucket, Key=model_prefix(MODEL, 1) + "model.onnx",
                              Body=b"not the trained model")
    # WHEN it is promoted THEN the promotion is refused naming the file
    with pytest.raises(PromotionRefusedError, match=r"model\.onnx has sha256"):
        _promote(dev, prod, 1)
    # AND prod has no version, no artifact and released nothing
    assert registry_of(prod).list_versions(MODEL) == []
    listed = prod.clients.s3.list_objects_v2(Bucket=prod.settings.artifact_bucket, Prefix="models/")
    assert listed.get("KeyCount", 0) == 0 and events(prod, "ModelDeployed") == []


def test_prod_configured_for_promotion_validates_a_drop_but_trains_nothing(
        stages: tuple[LocalCloud, LocalCloud]) -> None:
    dev, prod = stages
    # GIVEN prod takes versions by promotion only (as sluice.toml ships): it has no retrain schedule, dev has one
    assert not prod.config.stage("prod").trains and dev.config.stage("dev").trains
    assert ("retrain-schedule", MODEL) in dev.provisioned.schedules
    assert ("retrain-schedule", MODEL) not in prod.provisioned.schedules
    # WHEN a file is dropped in prod
    prod.drop(DATASETS[MODEL][0], MODEL)
    prod.run_until_idle()
    # THEN the data is accepted, and its training is a recorded no-op: no version, TrainingSkipped, an audit note
    assert events(prod, "DatasetAccepted") and events(prod, "ModelTrained") == []
    (skipped,) = events(prod, "TrainingSkipped")
    assert skipped["stage"] == "prod"
    registry = registry_of(prod)
    assert registry.list_versions(MODEL) == [] and registry.latest_dataset(MODEL) is not None
    assert any(entry.change == "skipped (stage does not train)" for entry in registry.history(MODEL))


def test_the_promote_command_reaches_the_other_stage_by_its_prefix(
        trained: Any, stages: tuple[LocalCloud, LocalCloud], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    dev, prod = stages
    # GIVEN dev's live v1, and a CLI configured for prod (its SLUICE_* variables, no `sluice local` running)
    live_with(dev, trained[MODEL])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for key, value in prod.settings.to_env().items():
        monkeypatch.setenv(key, value)
    # WHEN `sluice promote breast-cancer 1 --from dev --to prod --json` runs
    result = CliRunner().invoke(app, ["promote", MODEL, "1", "--from", "dev", "--to", "prod", "--json"])
    # THEN it answers the promotion as JSON, and prod has the version, approved and announced
    assert result.exit_code == 0, (result.stdout, result.stderr)
    answer = json.loads(result.stdout)
    assert {key: answer[key] for key in ("outcome", "source_stage", "target_stage", "target_version")} == {
        "outcome": "promoted", "source_stage": "dev", "target_stage": "prod", "target_version": 1}
    prod.run_until_idle()
    assert registry_of(prod).get_version(MODEL, 1).status is Status.LIVE
    # AND `sluice models show` prints the version's lineage
    shown = CliRunner().invoke(app, ["models", "show", MODEL, "1"])
    assert shown.exit_code == 0 and "promoted from dev v1 by arn:aws:" in shown.stdout, shown.stdout
    # AND a stage that is not deployed here is a usage error naming the function it looked for
    missing = CliRunner().invoke(app, ["promote", MODEL, "1", "--from", "dev", "--to", "qa"])
    assert missing.exit_code == 2 and "sluice-qa-predict-breast-cancer does not exist" in missing.stderr


def test_a_promoted_version_waits_for_approval_where_the_model_requires_one(
        trained: Any, gated_stages: tuple[LocalCloud, LocalCloud]) -> None:
    dev, prod = gated_stages
    # GIVEN dev's v1, approved by dev's gate, and a model whose releases need a manual approval
    assert approved(dev, trained[MODEL]) == 1
    # WHEN v1 is promoted to prod
    assert _promote(dev, prod, 1).target_version == 1
    # THEN prod's release waits for a human: nothing is live, the version is pending, ApprovalRequested says so
    prod_registry = registry_of(prod)
    assert prod_registry.get_version(MODEL, 1).status is Status.PENDING_APPROVAL
    assert prod_registry.get_alias(MODEL, "live") is None
    assert [event["version"] for event in events(prod, "ApprovalRequested")] == [1]
    # WHEN a reviewer approves it (an ApprovalDecided event on prod's bus)
    decision = {"model": MODEL, "version": 1, "decision": "approve", "reason": "promoted card reviewed",
                "actor": "arn:aws:sts::123456789012:assumed-role/reviewers/ana", "correlation_id": "approve-p1"}
    prod.clients.events.put_events(Entries=[{"Source": "sluice", "DetailType": "ApprovalDecided",
                                             "Detail": json.dumps(decision), "EventBusName": prod.settings.event_bus}])
    prod.run_until_idle()
    # THEN the promoted version goes live in prod and answers
    assert prod_registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    assert _answers(prod)["model_version"] == "1"
