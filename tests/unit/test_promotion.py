"""Promotion across stages (sluice.promotion): verified copy, registration with lineage, one release path.

Two stages, each with its artifact bucket on moto, the in-memory registry and a recording bus; the source version
is seeded file by file, so every check is about the promotion itself (the local-stack test promotes a really
trained model and serves it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from sluice.artifacts import sha256_hex
from sluice.events import DetailType
from sluice.promotion import PromotionRefusedError, StageEnd, claim_key, promote
from sluice.registry import InMemoryRegistry, Status
from sluice.storage import ObjectStore, model_prefix
from tests.unit.growth_stack import RecordingPublisher

MODEL = "churn"
NOW = 1_800_000_000.0
ONNX, PIPELINE = b"onnx model bytes", b"pickled pipeline bytes"
OPERATOR = "arn:aws:iam::123456789012:user/operator"


@dataclass
class Stage:
    end: StageEnd
    events: RecordingPublisher

    @property
    def registry(self) -> InMemoryRegistry:
        registry = self.end.registry
        assert isinstance(registry, InMemoryRegistry)
        return registry

    def stored(self) -> list[str]:
        return self.end.artifacts.list_keys(f"models/{MODEL}/")


@pytest.fixture
def stages(aws: None) -> tuple[Stage, Stage]:
    s3 = boto3.client("s3")
    made = []
    for name in ("dev", "prod"):
        s3.create_bucket(Bucket=f"{name}-artifacts")
        events = RecordingPublisher()
        made.append(Stage(StageEnd(name, ObjectStore(s3, f"{name}-artifacts"), InMemoryRegistry(clock=lambda: NOW),
                                   events), events))
    return made[0], made[1]


def seed(stage: Stage, *, status: Status = Status.APPROVED, refit: bool = False) -> int:
    """A version of ``MODEL`` in ``stage`` as train and evaluate leave it (``refit``: shipped under refit/)."""
    registry = stage.registry
    claimed = registry.claim_version(MODEL, data_version="d1", code_version="c1", lineage={"trigger": "drop"},
                                     actor="train_model", correlation_id="drop-1", claim_key="drop:1:d1")
    prefix = model_prefix(MODEL, claimed.version)
    files = {"model.onnx": ONNX, "pipeline.pkl": PIPELINE, "signature.json": b'{"format": "onnx"}',
             "training.json": json.dumps({"serving": "onnx", "artifact_sha256": sha256_hex(ONNX),
                                          "pipeline_sha256": sha256_hex(PIPELINE)}).encode(),
             "baseline.json": b"{}", "evaluation.json": b'{"approved": true, "metrics": {"roc_auc": 0.9}}',
             "model_card.json": json.dumps(_card(claimed.version)).encode(), "model_card.html": b"<html/>",
             "ab-report.json": b"{}"}
    shipped, shipped_onnx = prefix, ONNX
    if refit:
        shipped, shipped_onnx = prefix + "refit/", b"refit onnx bytes"
        files.update({"refit/model.onnx": shipped_onnx, "refit/pipeline.pkl": b"refit pipeline",
                      "refit/signature.json": b'{"format": "onnx"}', "refit.json": b'{"applied": true}'})
    for name, body in files.items():
        stage.end.artifacts.put_bytes(prefix + name, body)
    registry.transition(MODEL, claimed.version, to=Status.CANDIDATE, reason="trained", actor="train_model",
                        correlation_id="drop-1",
                        fields={"family": "logistic_regression", "artifact_prefix": shipped, "serving": "onnx",
                                "artifact_sha256": sha256_hex(shipped_onnx),
                                "pipeline_sha256": sha256_hex(b"refit pipeline" if refit else PIPELINE)})
    registry.transition(MODEL, claimed.version, to=Status.APPROVED, reason="gate passed", actor="evaluate_model",
                        correlation_id="drop-1", fields={"metrics": {"roc_auc": 0.9}})
    if status is not Status.APPROVED:
        registry.transition(MODEL, claimed.version, to=status, reason="released", actor="deploy_model",
                            correlation_id="drop-1")
    return claimed.version


def _card(version: int) -> dict[str, Any]:
    return {"schema": "sluice.model-card/1", "model": MODEL, "version": version, "created_at": "t",
            "description": "", "task": "classification",
            "data": {"features": [], "target": "y", "data_version": "d1"},
            "training": {"params": {}, "trials": []}, "evaluation": {"metrics": {}, "slices": {}},
            "gate": {"approved": True, "reasons": ["passed"], "checks": []}, "plots": {}, "importance": {},
            "artifacts": {}}


def test_promotion_copies_the_exact_artifact_and_registers_it_approved_with_lineage(stages: tuple[Stage, Stage]
                                                                                     ) -> None:
    dev, prod = stages
    # GIVEN a live version in dev and a prod with one version of its own
    seed(prod)
    version = seed(dev, status=Status.LIVE)
    # WHEN it is promoted to prod
    result = promote(dev.end, prod.end, MODEL, version, promoted_by=OPERATOR, clock=lambda: NOW)
    # THEN prod has it as its next version, approved, with the same sha256 and the promotion's lineage
    assert (result.outcome, result.target_version) == ("promoted", 2)
    promoted = prod.registry.get_version(MODEL, 2)
    original = dev.registry.get_version(MODEL, version)
    assert promoted.status is Status.APPROVED
    assert (promoted.artifact_sha256, promoted.pipeline_sha256) == (original.artifact_sha256,
                                                                   original.pipeline_sha256)
    assert promoted.artifact_prefix == model_prefix(MODEL, 2) and promoted.data_version == "d1"
    lineage = promoted.lineage["promotion"]
    assert {key: lineage[key] for key in ("source_stage", "source_version", "source_data_version", "promoted_by",
                                          "source_artifact_sha256", "claim_key")} == {
        "source_stage": "dev", "source_version": version, "source_data_version": "d1", "promoted_by": OPERATOR,
        "source_artifact_sha256": sha256_hex(ONNX), "claim_key": claim_key("dev", version)}
    # AND prod's audit trail says so from the claim on: created by the promotion, then copied, then approved
    trail = [(entry.change, entry.reason) for entry in prod.registry.history(MODEL) if entry.subject == "v2"]
    assert [change for change, _ in trail] == ["created (training)", "training → candidate", "candidate → approved"]
    assert trail[0][1].startswith(f"promotion of dev v{version} by {OPERATOR}") and OPERATOR in trail[2][1]
    # AND the files are the same bytes (the release reports of dev are not part of the artifact)
    copied = prod.end.artifacts.get_bytes(model_prefix(MODEL, 2) + "model.onnx")
    assert copied == ONNX and model_prefix(MODEL, 2) + "ab-report.json" not in prod.stored()
    # AND prod's evaluation record and card say it was promoted
    evaluation = prod.end.artifacts.get_json(model_prefix(MODEL, 2) + "evaluation.json")
    card_html = prod.end.artifacts.get_bytes(model_prefix(MODEL, 2) + "model_card.html").decode()
    assert evaluation["approved"] is True and evaluation["promotion"]["source_stage"] == "dev"
    assert "Promotion" in card_html and OPERATOR in card_html
    # AND prod's ModelEvaluated announces it approved (deploy_model releases it by prod's policy)
    (announced,) = prod.events.of(DetailType.MODEL_EVALUATED)
    assert announced["approved"] is True and announced["version"] == 2 and "promoted from dev" in \
        announced["reasons"][0]
    assert dev.events.published == []


def test_promoting_the_same_version_twice_registers_one_version(stages: tuple[Stage, Stage]) -> None:
    dev, prod = stages
    # GIVEN a promoted version
    version = seed(dev)
    promote(dev.end, prod.end, MODEL, version, promoted_by=OPERATOR)
    # WHEN it is promoted again
    again = promote(dev.end, prod.end, MODEL, version, promoted_by=OPERATOR)
    # THEN nothing new is registered: the same target version, announced again while still waiting for release
    assert (again.outcome, again.target_version) == ("already_promoted", 1)
    assert [v.version for v in prod.registry.list_versions(MODEL)] == [1]
    assert len(prod.events.of(DetailType.MODEL_EVALUATED)) == 2


def test_a_changed_artifact_is_refused_and_nothing_is_registered(stages: tuple[Stage, Stage]) -> None:
    dev, prod = stages
    # GIVEN a dev version whose model file was changed after training
    version = seed(dev)
    dev.end.artifacts.put_bytes(model_prefix(MODEL, version) + "model.onnx", b"tampered")
    # WHEN it is promoted THEN it is refused naming the file, and prod has nothing
    with pytest.raises(PromotionRefusedError, match=r"model\.onnx has sha256 .* was changed after training"):
        promote(dev.end, prod.end, MODEL, version, promoted_by=OPERATOR)
    assert prod.registry.list_versions(MODEL) == [] and prod.stored() == [] and prod.events.published == []


def test_a_training_record_that_disagrees_with_the_registry_is_refused(stages: tuple[Stage, Stage]) -> None:
    dev, prod = stages
    # GIVEN a dev version whose training.json records another sha256 than its registry record
    version = seed(dev)
    dev.end.artifacts.put_bytes(model_prefix(MODEL, version) + "training.json", json.dumps(
        {"serving": "onnx", "artifact_sha256": "0" * 64, "pipeline_sha256": sha256_hex(PIPELINE)}).encode())
    # WHEN it is promoted THEN it is refused
    with pytest.raises(PromotionRefusedError, match="records disagree"):
        promote(dev.end, prod.end, MODEL, version, promoted_by=OPERATOR)
    assert prod.registry.list_versions(MODEL) == []


@pytest.mark.parametrize("status", [Status.REJECTED, Status.ROLLED_BACK])
def test_a_version_its_gate_did_not_approve_or_that_was_withdrawn_is_refused(stages: tuple[Stage, Stage],
                                                                             status: Status) -> None:
    dev, prod = stages
    # GIVEN a rejected (or rolled back) dev version
    registry = dev.registry
    version = seed(dev, status=Status.LIVE if status is Status.ROLLED_BACK else Status.APPROVED)
    if status is Status.REJECTED:
        claimed = registry.claim_version(MODEL, data_version="d2", code_version="c", lineage={}, actor="t",
                                         correlation_id="c")
        registry.transition(MODEL, claimed.version, to=Status.CANDIDATE, reason="", actor="t", correlation_id="c")
        registry.transition(MODEL, claimed.version, to=Status.REJECTED, reason="", actor="t", correlation_id="c")
        version = claimed.version
    else:
        registry.transition(MODEL, version, to=status, reason="alarm", actor="t", correlation_id="c")
    # WHEN it is promoted THEN the refusal says why
    with pytest.raises(PromotionRefusedError, match=f"is {status.value}; only versions its gate approved"):
        promote(dev.end, prod.end, MODEL, version, promoted_by=OPERATOR)
    assert prod.registry.list_versions(MODEL) == []


def test_an_unknown_version_or_the_same_stage_is_refused(stages: tuple[Stage, Stage]) -> None:
    dev, prod = stages
    # GIVEN a dev with one version WHEN v9 is promoted, or dev into dev THEN both are refused
    version = seed(dev)
    with pytest.raises(PromotionRefusedError, match="dev has no churn v9"):
        promote(dev.end, prod.end, MODEL, 9, promoted_by=OPERATOR)
    with pytest.raises(PromotionRefusedError, match="same stage"):
        promote(dev.end, dev.end, MODEL, version, promoted_by=OPERATOR)


def test_a_refit_version_ships_its_refit_files_under_the_same_folder(stages: tuple[Stage, Stage]) -> None:
    dev, prod = stages
    # GIVEN a dev version refit on all rows (the shipped files under refit/, the gated ones beside)
    version = seed(dev, refit=True)
    # WHEN it is promoted
    promote(dev.end, prod.end, MODEL, version, promoted_by=OPERATOR)
    # THEN prod ships the refit: same folder, same sha256, both sets of files copied
    promoted = prod.registry.get_version(MODEL, 1)
    assert promoted.artifact_prefix == model_prefix(MODEL, 1) + "refit/"
    assert prod.end.artifacts.get_bytes(promoted.artifact_prefix + "model.onnx") == b"refit onnx bytes"
    assert promoted.artifact_sha256 == sha256_hex(b"refit onnx bytes")
    assert prod.end.artifacts.get_bytes(model_prefix(MODEL, 1) + "model.onnx") == ONNX


def test_a_promotion_that_stopped_after_its_claim_finishes_on_the_next_run(stages: tuple[Stage, Stage]) -> None:
    dev, prod = stages
    # GIVEN a promotion that claimed its prod version and stopped before copying (a crash)
    version = seed(dev)
    prod.registry.claim_version(MODEL, data_version="d1", code_version="c1", lineage={}, actor="promote",
                                correlation_id="x", claim_key=claim_key("dev", version))
    # WHEN it is run again THEN it resumes that version: copied, approved, announced
    result = promote(dev.end, prod.end, MODEL, version, promoted_by=OPERATOR)
    assert (result.outcome, result.target_version) == ("promoted", 1)
    assert prod.registry.get_version(MODEL, 1).status is Status.APPROVED
    assert len(prod.events.of(DetailType.MODEL_EVALUATED)) == 1
