"""train_model: train candidate families on an accepted data version and register the best."""

from __future__ import annotations

import json
import pickle
from typing import Any

from sluice.artifacts import (
    MODEL_FILE,
    ONNX_FORMAT,
    PIPELINE_FILE,
    SIGNATURE_FILE,
    SKLEARN_FORMAT,
    TRAINING_FILE,
    sha256_hex,
)
from sluice.data import from_parquet_bytes
from sluice.events import DetailType
from sluice.registry import DatasetRecord, ModelVersion, Status
from sluice.steps.baseline import write_baseline
from sluice.steps.context import StepContext
from sluice.storage import accepted_data_key, model_artifact_key, model_prefix
from sluice.training import ExportError, export_onnx, signature_for, split_holdout, train_best

ACTOR = "train_model"


class NoDataError(LookupError):
    """There is no accepted data to train on."""


def train_latest(ctx: StepContext, model_name: str, *, trigger: str, correlation_id: str) -> dict[str, Any]:
    """Retrain on the latest accepted data version (the scheduled path)."""
    dataset = ctx.registry.latest_dataset(model_name)
    if dataset is None:
        return {"outcome": "skipped", "model": model_name, "reason": "no accepted data yet"}
    return train_on(ctx, dataset, trigger=trigger, correlation_id=correlation_id)


def train_accepted(ctx: StepContext, model_name: str, data_version: str, *, correlation_id: str,
                   contract_version: str = "") -> dict[str, Any]:
    """Train on the data version a DatasetAccepted event names (accepted under ``contract_version``)."""
    dataset = DatasetRecord(model=model_name, data_version=data_version, rows=0,
                            data_key=accepted_data_key(model_name, data_version), sources=(), accepted_at="",
                            contract_version=contract_version)
    return train_on(ctx, dataset, trigger="DatasetAccepted", correlation_id=correlation_id)


def train_on(ctx: StepContext, dataset: DatasetRecord, *, trigger: str, correlation_id: str) -> dict[str, Any]:
    model = ctx.config.model(dataset.model)
    frame = from_parquet_bytes(ctx.data.get_bytes(dataset.data_key)).to_pandas()
    train, holdout = split_holdout(frame, model)
    claimed = ctx.registry.claim_version(
        model.name, data_version=dataset.data_version, code_version=ctx.settings.code_version,
        lineage={"data_key": dataset.data_key, "sources": list(dataset.sources), "trigger": trigger,
                 "contract_version": dataset.contract_version, "train_rows": len(train),
                 "holdout_rows": len(holdout)},
        actor=ACTOR, correlation_id=correlation_id,
        claim_key=f"{trigger}:{correlation_id}:{dataset.data_version}",  # a rerun resumes this version
    )
    if claimed.status is not Status.TRAINING:
        return _announce_again(ctx, claimed, correlation_id=correlation_id)
    try:
        result = train_best(train, model)
    except ValueError as error:
        ctx.registry.transition(model.name, claimed.version, to=Status.FAILED, reason=str(error), actor=ACTOR,
                                correlation_id=correlation_id)
        ctx.events.publish(DetailType.TRAINING_FAILED, {
            "model": model.name, "version": claimed.version, "data_version": dataset.data_version,
            "reason": str(error), "correlation_id": correlation_id,
        })
        return {"outcome": "failed", "model": model.name, "version": claimed.version, "reason": str(error)}
    pipeline_bytes = pickle.dumps(result.pipeline, protocol=pickle.HIGHEST_PROTOCOL)
    export: dict[str, Any]
    try:
        exported = export_onnx(result, model, holdout)
        served, signature, sha256 = ONNX_FORMAT, exported.signature, sha256_hex(exported.onnx_bytes)
        export = {"onnx_max_abs_diff": exported.max_abs_diff, "onnx_labels_agree": exported.labels_agree}
        ctx.artifacts.put_bytes(model_artifact_key(model.name, claimed.version, MODEL_FILE), exported.onnx_bytes)
    except ExportError as error:  # serve the verified scikit-learn pipeline instead
        served, signature, sha256 = SKLEARN_FORMAT, signature_for(model, result.classes), sha256_hex(pipeline_bytes)
        export = {"onnx_error": str(error)}
    summary = {
        "model": model.name, "version": claimed.version, "data_version": dataset.data_version,
        "family": result.family, "params": result.params, "cv": result.cv, "cv_metric": result.cv_metric,
        "training_rows": result.training_rows, "duration_s": round(result.duration_s, 3),
        "search": result.search, "trials": list(result.trials), "serving": served, **export,
        "artifact_sha256": sha256, "pipeline_sha256": sha256_hex(pipeline_bytes),
        "code_version": ctx.settings.code_version,
    }
    ctx.artifacts.put_bytes(model_artifact_key(model.name, claimed.version, PIPELINE_FILE), pipeline_bytes)
    ctx.artifacts.put_json(model_artifact_key(model.name, claimed.version, SIGNATURE_FILE),
                           {**signature.to_dict(), "format": served})
    ctx.artifacts.put_json(model_artifact_key(model.name, claimed.version, TRAINING_FILE), summary)
    write_baseline(ctx.artifacts, model, claimed.version, train, result.pipeline)  # drift reference
    ctx.registry.transition(
        model.name, claimed.version, to=Status.CANDIDATE,
        reason=f"best of {len(result.trials)} trials over {len(result.cv)} families by CV",
        actor=ACTOR, correlation_id=correlation_id,
        fields={"family": result.family, "params": json.loads(json.dumps(result.params, default=str)),
                "cv": result.cv, "artifact_prefix": model_prefix(model.name, claimed.version),
                "artifact_sha256": sha256, "pipeline_sha256": summary["pipeline_sha256"], "serving": served},
    )
    ctx.events.publish(DetailType.MODEL_TRAINED, {
        "model": model.name, "version": claimed.version, "data_version": dataset.data_version,
        "family": result.family, "cv": result.cv, "correlation_id": correlation_id,
    })
    return {"outcome": "trained", **{k: summary[k] for k in ("model", "version", "data_version", "family", "cv")}}


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
