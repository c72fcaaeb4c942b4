"""Promote one stage's version into another stage: verify, copy, register, announce (injected stores).

The target registers the copy as a new version (a claim keyed by source stage and version, so promoting twice
makes one version), moves it training → candidate → approved with conditional writes, and publishes the target's
``ModelEvaluated`` (approved, reason ``promoted``): deploy_model in the target stage releases it by the target's
own deployment policy, the one release path every approved version takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sluice.artifacts import CARD_HTML_FILE, CARD_JSON_FILE, EVALUATION_FILE, TRAINING_FILE
from sluice.cards import render_html
from sluice.clock import Clock, iso, system_clock
from sluice.events import DetailType, EventPublisher
from sluice.promotion.manifest import (
    PromotionRefusedError,
    check_promotable,
    claim_key,
    copied_names,
    expected_sha256,
    promoted_card,
    promoted_evaluation,
    read_json,
    shipped_prefix,
    verify_files,
)
from sluice.registry import ModelVersion, RegistryStore, Status, VersionNotFoundError
from sluice.storage import ObjectStore, model_artifact_key, model_prefix

ACTOR = "promote"


@dataclass(frozen=True)
class StageEnd:
    """One side of a promotion: a stage's name, artifact bucket, registry and event bus."""

    name: str
    artifacts: ObjectStore
    registry: RegistryStore
    events: EventPublisher


@dataclass(frozen=True)
class PromotionResult:
    outcome: str
    """``promoted`` (registered and announced now) or ``already_promoted`` (an earlier run registered it)."""
    model: str
    source_stage: str
    source_version: int
    target_stage: str
    target_version: int
    artifact_sha256: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def promote(source: StageEnd, target: StageEnd, model: str, version: int, *, promoted_by: str,
            clock: Clock = system_clock) -> PromotionResult:
    """Promote ``model`` ``version`` of ``source`` into ``target``; PromotionRefusedError registers nothing."""
    if source.name == target.name:
        raise PromotionRefusedError(f"source and target are the same stage ({source.name})")
    try:
        original = source.registry.get_version(model, version)
    except VersionNotFoundError:
        raise PromotionRefusedError(f"{source.name} has no {model} v{version}") from None
    check_promotable(original, source.name)
    base = model_prefix(model, version)
    files = {name: source.artifacts.get_bytes(base + name)
             for name in copied_names(source.artifacts.list_keys(base), base)}
    if TRAINING_FILE not in files:
        raise PromotionRefusedError(f"{model} v{version} in {source.name} has no {TRAINING_FILE}")
    digests = verify_files(files, expected_sha256(original, read_json(files, TRAINING_FILE), base))
    key = claim_key(source.name, version)
    correlation_id = f"promote-{source.name}-{model}-v{version}"
    facts = {"source_stage": source.name, "source_version": version, "source_status": original.status.value,
             "source_artifact_sha256": original.artifact_sha256, "source_pipeline_sha256": original.pipeline_sha256,
             "source_data_version": original.data_version, "files_sha256": digests, "promoted_by": promoted_by,
             "promoted_at": iso(clock()), "claim_key": key}
    claimed = target.registry.claim_version(
        model, data_version=original.data_version, code_version=original.code_version,
        lineage={**original.lineage, "promotion": facts}, actor=ACTOR, correlation_id=correlation_id, claim_key=key,
        reason=f"promotion of {source.name} v{version} by {promoted_by} started (copying its verified artifact)")
    promotion = {**facts, "target_stage": target.name, "target_version": claimed.version}
    if claimed.status is Status.TRAINING:  # new, or a rerun after a crash mid-copy: copy (again) and register
        _copy(target, files, promotion, model, claimed.version)
        claimed = target.registry.transition(
            model, claimed.version, to=Status.CANDIDATE, reason=f"artifact copied from {source.name} v{version}",
            actor=ACTOR, correlation_id=correlation_id,
            fields={"family": original.family, "params": original.params, "cv": original.cv,
                    "artifact_prefix": shipped_prefix(original, base, model_prefix(model, claimed.version)),
                    "artifact_sha256": original.artifact_sha256, "pipeline_sha256": original.pipeline_sha256,
                    "serving": original.serving, "lineage": {**original.lineage, "promotion": promotion}})
    if claimed.status is Status.CANDIDATE:
        reason = (f"promoted from {source.name} v{version} (sha256 {original.artifact_sha256[:12]}… verified) "
                  f"by {promoted_by}")
        approved = target.registry.transition(
            model, claimed.version, to=Status.APPROVED, reason=reason, actor=ACTOR, correlation_id=correlation_id,
            fields={"metrics": original.metrics, "live_metrics": original.live_metrics,
                    "gate_reasons": [*original.gate_reasons, reason]})
        _announce(target, approved, promotion, correlation_id)
        return _result("promoted", source, target, original, approved)
    if claimed.status is Status.APPROVED:  # registered before; its announcement may have been lost: restate it
        _announce(target, claimed, claimed.lineage.get("promotion", promotion), correlation_id)
    return _result("already_promoted", source, target, original, claimed)


def _copy(target: StageEnd, files: dict[str, bytes], promotion: dict[str, Any], model: str, version: int) -> None:
    """Write the verified bytes (never re-read from the source); the records gain the promotion."""
    for name, body in files.items():
        if name not in (EVALUATION_FILE, CARD_JSON_FILE, CARD_HTML_FILE):
            target.artifacts.put_bytes(model_artifact_key(model, version, name), body)
    target.artifacts.put_json(model_artifact_key(model, version, EVALUATION_FILE),
                              promoted_evaluation(read_json(files, EVALUATION_FILE), promotion, version))
    card = promoted_card(read_json(files, CARD_JSON_FILE), promotion, version)
    target.artifacts.put_json(model_artifact_key(model, version, CARD_JSON_FILE), card)
    target.artifacts.put_text(model_artifact_key(model, version, CARD_HTML_FILE), render_html(card),
                              content_type="text/html; charset=utf-8")


def _announce(target: StageEnd, version: ModelVersion, promotion: dict[str, Any], correlation_id: str) -> None:
    """The target's ModelEvaluated (approved): deploy_model releases it by the target's deployment policy."""
    target.events.publish(DetailType.MODEL_EVALUATED, {
        "model": version.model, "version": version.version, "approved": True,
        "reasons": [f"promoted from {promotion['source_stage']} v{promotion['source_version']}"],
        "metrics": version.metrics, "live_version": None, "live_metrics": None, "promoted": promotion,
        "correlation_id": correlation_id,
    })


def _result(outcome: str, source: StageEnd, target: StageEnd, original: ModelVersion, registered: ModelVersion
            ) -> PromotionResult:
    return PromotionResult(outcome=outcome, model=original.model, source_stage=source.name,
                           source_version=original.version, target_stage=target.name,
                           target_version=registered.version, artifact_sha256=registered.artifact_sha256 or
                           original.artifact_sha256)
