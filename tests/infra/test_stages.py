"""Stages come from the context: dev by default, prod on request, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App

from infra.app import build
from infra.stages import StageError
from tests.infra.conftest import REPO, Synth, cdk_context, synthesize


def test_default_stage_is_dev(synth: Synth) -> None:
    assert synth.stack.stack_name == "Sluice-dev"
    assert synth.stack.names.prefix == "sluice-dev"


def test_prod_stage_prefixes_everything_with_sluice_prod(tmp_path: Path) -> None:
    prod = synthesize(tmp_path, stage="prod")
    assert prod.stack.stack_name == "Sluice-prod"
    names = {p["Properties"].get("FunctionName") for p in prod.of_type("AWS::Lambda::Function").values()}
    assert "sluice-prod-predict-diabetes" in names
    (bus,) = prod.of_type("AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] == "sluice-prod-events"
    for group in prod.of_type("AWS::Logs::LogGroup").values():
        assert group["DeletionPolicy"] == "Retain"


def test_unknown_stage_is_refused(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path), context=cdk_context(stage="qa"))
    with pytest.raises(StageError, match="dev, prod"):
        build(app)


def test_prod_keeps_what_dev_may_drop_and_both_alarm(synth: Synth, tmp_path: Path) -> None:
    # GIVEN dev (the session's synth) and prod
    prod = synthesize(tmp_path, stage="prod")

    def policies(stack: Synth, resource_type: str) -> set[str]:
        return {resource.get("DeletionPolicy", "Delete") for resource in stack.of_type(resource_type).values()}

    # THEN logs, dead-letter queues and the idempotency table are disposable in dev, retained in prod
    for resource_type in ("AWS::Logs::LogGroup", "AWS::SQS::Queue", "AWS::Lambda::LayerVersion"):
        assert policies(synth, resource_type) == {"Delete"}, resource_type
        assert policies(prod, resource_type) == {"Retain"}, resource_type
    retention = {stack.stack.stage.name: {g["Properties"]["RetentionInDays"]
                                          for g in stack.of_type("AWS::Logs::LogGroup").values()}
                 for stack in (synth, prod)}
    assert retention == {"dev": {30}, "prod": {365}}
    # the data, the artifacts and the registry are never deleted with the stack; prod also protects the table
    for stack in (synth, prod):
        assert policies(stack, "AWS::S3::Bucket") == {"Retain"}
    registry = [t["Properties"] for t in prod.of_type("AWS::DynamoDB::Table").values()
                if t.get("DeletionPolicy") == "Retain" and "TimeToLiveSpecification" not in t["Properties"]]
    assert [t.get("DeletionProtectionEnabled") for t in registry] == [True]
    # and both stages alarm on the same things (endpoints and dead letters)
    alarms = {stack.stack.stage.name: len(stack.of_type("AWS::CloudWatch::Alarm")) for stack in (synth, prod)}
    assert alarms["dev"] == alarms["prod"] > 0


def test_prod_takes_versions_by_promotion_and_gets_no_retrain_schedule(synth: Synth, tmp_path: Path) -> None:
    # GIVEN sluice.toml as shipped: every model retrains on a schedule, and [stages.prod] source = "promotion"
    # WHEN dev (the session's synth) and prod are synthesized from it
    prod = synthesize(tmp_path, stage="prod")

    def rules(stack: Synth, kind: str) -> set[str]:
        head = f"{stack.stack.names.prefix}-{kind}-"
        return {name for rule in stack.of_type("AWS::Events::Rule").values()
                if str(name := rule["Properties"].get("Name", "")).startswith(head)}

    # THEN prod has no retrain rule while dev (no [stages.dev] table) keeps one per model; drift checks stay
    assert rules(synth, "retrain") == {"sluice-dev-retrain-breast-cancer", "sluice-dev-retrain-diabetes"}
    assert rules(prod, "retrain") == set()
    drift = {name.replace("sluice-dev", "sluice-prod") for name in rules(synth, "drift")}
    assert rules(prod, "drift") == drift != set()


def test_prod_configured_to_train_keeps_its_retrain_schedules(tmp_path: Path) -> None:
    # GIVEN sluice.toml with prod switched to train on its own drops
    config = tmp_path / "sluice.toml"
    config.write_text((REPO / "sluice.toml").read_text().replace('source = "promotion"', 'source = "training"'))
    # WHEN prod is synthesized THEN it has a retrain rule per model, as dev does
    prod = synthesize(tmp_path, config=config, stage="prod")
    names = {str(rule["Properties"].get("Name", "")) for rule in prod.of_type("AWS::Events::Rule").values()}
    assert {"sluice-prod-retrain-breast-cancer", "sluice-prod-retrain-diabetes"} <= names
