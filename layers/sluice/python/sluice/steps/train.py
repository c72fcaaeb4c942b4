"""train_model: train candidate families on an accepted data version and register the best."""

from __future__ import annotations

import logging
from typing import Any

from sluice.clock import iso
from sluice.events import DetailType
from sluice.naming import LIVE_ALIAS
from sluice.registry import DatasetRecord, ModelVersion, Status
from sluice.steps.context import StepContext
from sluice.steps.train_job import lambda_memory_mb, start_training_job
from sluice.steps.trained import ACTOR, fail_training, register_trained, train_into
from sluice.storage import accepted_data_key
from sluice.training.backend import choose_backend
from sluice.training.window import EmptyWindowError, TrainingData, select_training_data, training_fingerprint

LOGGER = logging.getLogger(__name__)


class NoDataError(LookupError):
    """There is no accepted data to train on."""


def train_latest(ctx: StepContext, model_name: str, *, trigger: str, correlation_id: str) -> dict[str, Any]:
    """Retrain on the model's training data now: the latest drop (snapshot) or its window (append)."""
    model = ctx.config.model(model_name)
    if not ctx.config.stage(ctx.settings.stage).trains:
        return not_trained_here(ctx, model_name, trigger=trigger, correlation_id=correlation_id)
    try:
        data = select_training_data(model, ctx.registry.list_datasets(model_name), now=ctx.clock())
    except EmptyWindowError as error:
        return {"outcome": "skipped", "model": model_name, "reason": str(error)}
    return train_on(ctx, data, model_name=model_name, trigger=trigger, correlation_id=correlation_id)


def train_accepted(ctx: StepContext, model_name: str, data_version: str, *, correlation_id: str,
                   contract_version: str = "") -> dict[str, Any]:
    """Train after a DatasetAccepted event for ``data_version`` (accepted under ``contract_version``): on it
    (snapshot) or on the window it joined (append)."""
    model = ctx.config.model(model_name)
    if not ctx.config.stage(ctx.settings.stage).trains:
        return not_trained_here(ctx, model_name, trigger="DatasetAccepted", correlation_id=correlation_id,
                                data_version=data_version)
    datasets = ctx.registry.list_datasets(model_name)
    if not any(dataset.data_version == data_version for dataset in datasets):  # announced, not (yet) listed
        datasets.append(DatasetRecord(model=model_name, data_version=data_version, rows=0,
                                      data_key=accepted_data_key(model_name, data_version), sources=(),
                                      accepted_at=iso(ctx.clock()), contract_version=contract_version))
    data = select_training_data(model, datasets, now=ctx.clock(), anchor=data_version)
    return train_on(ctx, data, model_name=model_name, trigger="DatasetAccepted", correlation_id=correlation_id)


def train_on(ctx: StepContext, data: TrainingData, *, model_name: str, trigger: str, correlation_id: str
             ) -> dict[str, Any]:
    """Train on ``data`` unless a version trained on the same data with the same config exists (a no-op)."""
    model = ctx.config.model(model_name)
    fingerprint = training_fingerprint(model, data.data_versions)
    claim_key = f"{trigger}:{correlation_id}:{data.data_version}"  # a rerun resumes this version
    same = _same_training(ctx, model.name, fingerprint, claim_key)
    if same is not None:
        return _unchanged(ctx, data, same, trigger=trigger, correlation_id=correlation_id)
    lineage = {"data_key": data.data_keys[-1], "data_keys": list(data.data_keys),
               "data_versions": list(data.data_versions), "window": data.window, "sources": list(data.sources),
               "trigger": trigger, "contract_version": data.contract_version, "fingerprint": fingerprint,
               "claim_key": claim_key}
    claimed = ctx.registry.claim_version(
        model.name, data_version=data.data_version, code_version=ctx.settings.code_version, lineage=lineage,
        actor=ACTOR, correlation_id=correlation_id, claim_key=claim_key,
    )
    if claimed.status is not Status.TRAINING:
        return _announce_again(ctx, claimed, correlation_id=correlation_id)
    columns = len(model.contract.feature_names) + 1
    choice = choose_backend(model.training, rows=sum(dataset.rows for dataset in data.datasets), columns=columns,
                            memory_mb=lambda_memory_mb())
    if choice.backend == "sagemaker":
        return start_training_job(ctx, model, claimed, data, choice, correlation_id=correlation_id)
    facts = {"data_version": data.data_version, "code_version": ctx.settings.code_version,
             "data_versions": list(data.data_versions), "window": data.window}
    try:  # unreadable or unsplittable data fails the version like a failed search (announced, not retried)
        summary = train_into(ctx.data, ctx.artifacts, model, claimed.version, data_keys=data.data_keys, facts=facts)
    except ValueError as error:
        return {**fail_training(ctx, claimed, str(error), correlation_id=correlation_id),
                "data_version": data.data_version}
    return register_trained(ctx, claimed, summary, correlation_id=correlation_id)


def not_trained_here(ctx: StepContext, model_name: str, *, trigger: str, correlation_id: str,
                     data_version: str = "") -> dict[str, Any]:
    """A stage whose versions come by promotion only (``[stages.<stage>] source = "promotion"``) trains nothing:
    the trigger is recorded (audit entry, TrainingSkipped, a log line) as a no-op, not an error."""
    stage = ctx.settings.stage
    reason = (f"stage {stage} trains no models ([stages.{stage}] source = \"promotion\"): {trigger} ignored; "
              "versions arrive by `sluice promote`")
    ctx.registry.note(model_name, subject="retrain", change="skipped (stage does not train)", reason=reason,
                      actor=ACTOR, correlation_id=correlation_id, trigger=trigger)
    ctx.events.publish(DetailType.TRAINING_SKIPPED, {
        "model": model_name, "data_version": data_version, "trigger": trigger, "stage": stage, "reason": reason,
        "correlation_id": correlation_id,
    })
    LOGGER.info("training skipped: stage trains no models",
                extra={"model": model_name, "trigger": trigger, "stage": stage})
    return {"outcome": "not_trained", "model": model_name, "stage": stage, "reason": reason}


def _same_training(ctx: StepContext, model_name: str, fingerprint: str, claim_key: str) -> ModelVersion | None:
    """The live or the latest version if it was trained (or is training) on the same data with the same config;
    a failed one does not count, nor the version this very claim made (a rerun resumes it)."""
    live = ctx.registry.get_alias(model_name, LIVE_ALIAS)
    versions = ctx.registry.list_versions(model_name)
    latest = max(versions, key=lambda version: version.version) if versions else None
    candidates = [ctx.registry.get_version(model_name, live.version)] if live is not None else []
    for version in (*candidates, *([latest] if latest is not None else [])):
        if (version.lineage.get("fingerprint") == fingerprint and version.status is not Status.FAILED
                and version.lineage.get("claim_key") != claim_key):
            return version
    return None


def _unchanged(ctx: StepContext, data: TrainingData, same: ModelVersion, *, trigger: str, correlation_id: str
               ) -> dict[str, Any]:
    """Record a retrain that would repeat ``same`` (audit entry, TrainingSkipped, log) instead of training."""
    reason = (f"training data {data.data_version} ({len(data.datasets)} accepted version(s)) and config equal "
              f"those of v{same.version} ({same.status.value}): no new version")
    ctx.registry.note(same.model, subject="retrain", change="skipped (unchanged)", reason=reason, actor=ACTOR,
                      correlation_id=correlation_id, trigger=trigger)
    ctx.events.publish(DetailType.TRAINING_SKIPPED, {
        "model": same.model, "data_version": data.data_version, "data_versions": list(data.data_versions),
        "same_as_version": same.version, "trigger": trigger, "reason": reason, "correlation_id": correlation_id,
    })
    LOGGER.info("retrain skipped", extra={"model": same.model, "trigger": trigger, "same_as": same.version,
                                          "data_version": data.data_version})
    return {"outcome": "unchanged", "model": same.model, "data_version": data.data_version,
            "same_as_version": same.version, "reason": reason}


def _announce_again(ctx: StepContext, claimed: ModelVersion, *, correlation_id: str) -> dict[str, Any]:
    """A rerun after the training already ended (crash before its event): publish the outcome again.

    Consumers are idempotent on (detail-type, model, version, data version, correlation id).
    """
    facts = {"model": claimed.model, "version": claimed.version, "data_version": claimed.data_version}
    if claimed.status is Status.FAILED:
        reason = "training failed (announced again after a rerun)"
        ctx.events.publish(DetailType.TRAINING_FAILED, {**facts, "reason": reason, "correlation_id": correlation_id})
        return {"outcome": "failed", **facts, "reason": reason}
    ctx.events.publish(DetailType.MODEL_TRAINED, {
        **facts, "family": claimed.family, "cv": claimed.cv, "correlation_id": correlation_id,
    })
    return {"outcome": "trained", **facts, "family": claimed.family, "cv": claimed.cv, "resumed": True}
