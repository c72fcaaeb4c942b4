"""train_model: train candidate families on an accepted data version and register the best."""

from __future__ import annotations

import json
from typing import Any

from sluice.artifacts import MODEL_FILE, SIGNATURE_FILE, TRAINING_FILE, sha256_hex
from sluice.data import from_parquet_bytes
from sluice.events import DetailType
from sluice.registry import DatasetRecord, Status
from sluice.steps.context import StepContext
from sluice.storage import accepted_data_key, model_artifact_key, model_prefix
from sluice.training import ExportError, export_onnx, split_holdout, train_best

ACTOR = "train_model"


class NoDataError(LookupError):
    """There is no accepted data to train on."""


def train_latest(ctx: StepContext, model_name: str, *, trigger: str, correlation_id: str) -> dict[str, Any]:
    """Retrain on the latest accepted data version (the scheduled path)."""
    dataset = ctx.registry.latest_dataset(model_name)
    if dataset is None:
        return {"outcome": "skipped", "model": model_name, "reason": "no accepted data yet"}
    return train_on(ctx, dataset, trigger=trigger, correlation_id=correlation_id)


def train_accepted(ctx: StepContext, model_name: str, data_version: str, *, correlation_id: str) -> dict[str, Any]:
    """Train on the data version a DatasetAccepted event names."""
    dataset = DatasetRecord(model=model_name, data_version=data_version, rows=0,
                            data_key=accepted_data_key(model_name, data_version), sources=(), accepted_at="")
    return train_on(ctx, dataset, trigger="DatasetAccepted", correlation_id=correlation_id)


def train_on(ctx: StepContext, dataset: DatasetRecord, *, trigger: str, correlation_id: str) -> dict[str, Any]:
    model = ctx.config.model(dataset.model)
    frame = from_parquet_bytes(ctx.data.get_bytes(dataset.data_key)).to_pandas()
    train, holdout = split_holdout(frame, model)
    claimed = ctx.registry.claim_version(
        model.name, data_version=dataset.data_version, code_version=ctx.settings.code_version,
        lineage={"data_key": dataset.data_key, "sources": list(dataset.sources), "trigger": trigger,
                 "train_rows": len(train), "holdout_rows": len(holdout)},
        actor=ACTOR, correlation_id=correlation_id,
    )
    try:
        result = train_best(train, model)
        exported = export_onnx(result, model, holdout)
    except (ValueError, ExportError) as error:
        ctx.registry.transition(model.name, claimed.version, to=Status.FAILED, reason=str(error), actor=ACTOR,
                                correlation_id=correlation_id)
        ctx.events.publish(DetailType.TRAINING_FAILED, {
            "model": model.name, "version": claimed.version, "data_version": dataset.data_version,
            "reason": str(error), "correlation_id": correlation_id,
        })
        return {"outcome": "failed", "model": model.name, "version": claimed.version, "reason": str(error)}
    sha256 = sha256_hex(exported.onnx_bytes)
    summary = {
        "model": model.name, "version": claimed.version, "data_version": dataset.data_version,
        "family": result.family, "params": result.params, "cv": result.cv, "cv_metric": result.cv_metric,
        "training_rows": result.training_rows, "duration_s": round(result.duration_s, 3),
        "onnx_max_abs_diff": exported.max_abs_diff, "onnx_labels_agree": exported.labels_agree,
        "artifact_sha256": sha256, "code_version": ctx.settings.code_version,
    }
    ctx.artifacts.put_bytes(model_artifact_key(model.name, claimed.version, MODEL_FILE), exported.onnx_bytes)
    ctx.artifacts.put_json(model_artifact_key(model.name, claimed.version, SIGNATURE_FILE),
                           exported.signature.to_dict())
    ctx.artifacts.put_json(model_artifact_key(model.name, claimed.version, TRAINING_FILE), summary)
    ctx.registry.transition(
        model.name, claimed.version, to=Status.CANDIDATE, reason=f"best of {len(result.cv)} families by CV",
        actor=ACTOR, correlation_id=correlation_id,
        fields={"family": result.family, "params": json.loads(json.dumps(result.params, default=str)),
                "cv": result.cv, "artifact_prefix": model_prefix(model.name, claimed.version),
                "artifact_sha256": sha256},
    )
    ctx.events.publish(DetailType.MODEL_TRAINED, {
        "model": model.name, "version": claimed.version, "data_version": dataset.data_version,
        "family": result.family, "cv": result.cv, "correlation_id": correlation_id,
    })
    return {"outcome": "trained", **{k: summary[k] for k in ("model", "version", "data_version", "family", "cv")}}
