"""Stages come from the context: dev by default, prod on request, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App

from infra.app import build
from infra.stages import StageError
from tests.infra.conftest import Synth, cdk_context, synthesize


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
