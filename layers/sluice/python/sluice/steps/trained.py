"""The core of a training, shared by train_model (Lambda) and the SageMaker training job: train a dataset into a
version's artifacts; then, in train_model, register the outcome (candidate + ModelTrained, or failed)."""

from __future__ import annotations

import json
import pickle
import time
from collections.abc import Sequence
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
from sluice.config.model import ModelConfig
from sluice.events import DetailType
from sluice.registry import ModelVersion, Status
from sluice.serving import MAX_INSTANCES
from sluice.steps.baseline import write_feature_baseline
from sluice.steps.context import StepContext
from sluice.steps.training_data import load_split
from sluice.storage import ObjectReader, ObjectWriter, model_artifact_key, model_prefix
from sluice.training import ExportError, export_onnx, signature_for
from sluice.training.search import fit_best, training_set

ACTOR = "train_model"


def train_into(data: ObjectReader, artifacts: ObjectWriter, model: ModelConfig, version: int, *,
               data_keys: Sequence[str], facts: dict[str, Any]) -> dict[str, Any]:
    """Train on the accepted data at ``data_keys`` and write the version's artifacts; returns the training summary
    (also written as training.json). ``facts`` (data versions, window, code version) go into the summary.

    Raises ValueError when the data cannot be read or split, or no candidate trains.
    """
    train, holdout = load_split(data, data_keys, model)
    started = time.perf_counter()  # the training's duration, as train_best counts it
    rows = {"train_rows": len(train), "holdout_rows": len(holdout)}
    shaped = training_set(train, model)
    del train  # the shaped features and labels are all the training needs from here on (memory)
    sample = holdout.head(MAX_INSTANCES).copy()  # all the export checks against
    del holdout
    result = fit_best(shaped, model, started=started)
    pipeline_bytes = pickle.dumps(result.pipeline, protocol=pickle.HIGHEST_PROTOCOL)
    export: dict[str, Any]
    try:
        exported = export_onnx(result, model, sample)
        served, signature, sha256 = ONNX_FORMAT, exported.signature, sha256_hex(exported.onnx_bytes)
        export = {"onnx_max_abs_diff": exported.max_abs_diff, "onnx_labels_agree": exported.labels_agree}
        artifacts.put_bytes(model_artifact_key(model.name, version, MODEL_FILE), exported.onnx_bytes)
    except ExportError as error:  # serve the verified scikit-learn pipeline instead
        served, signature, sha256 = SKLEARN_FORMAT, signature_for(model, result.classes), sha256_hex(pipeline_bytes)
        export = {"onnx_error": str(error)}
    summary = {
        "model": model.name, "version": version, **facts,
        "family": result.family, "params": result.params, "cv": result.cv, "cv_metric": result.cv_metric,
        "training_rows": result.training_rows, "duration_s": round(result.duration_s, 3),
        "search": result.search, "trials": list(result.trials), "serving": served, **export,
        "artifact_sha256": sha256, "pipeline_sha256": sha256_hex(pipeline_bytes),
        **rows,
    }
    artifacts.put_bytes(model_artifact_key(model.name, version, PIPELINE_FILE), pipeline_bytes)
    artifacts.put_json(model_artifact_key(model.name, version, SIGNATURE_FILE),
                       {**signature.to_dict(), "format": served})
    artifacts.put_json(model_artifact_key(model.name, version, TRAINING_FILE), summary)
    write_feature_baseline(artifacts, model, version, shaped.features, result.pipeline)  # drift reference
    return summary


def register_trained(ctx: StepContext, claimed: ModelVersion, summary: dict[str, Any], *, correlation_id: str,
                     job: dict[str, Any] | None = None) -> dict[str, Any]:
    """The version becomes a candidate with ``summary``'s results (and the training ``job`` that produced them, in
    its lineage); ModelTrained is published."""
    ctx.registry.transition(
        claimed.model, claimed.version, to=Status.CANDIDATE,
        reason=f"best of {len(summary['trials'])} trials over {len(summary['cv'])} families by CV",
        actor=ACTOR, correlation_id=correlation_id,
        fields={"family": summary["family"], "params": json.loads(json.dumps(summary["params"], default=str)),
                "cv": summary["cv"], "artifact_prefix": model_prefix(claimed.model, claimed.version),
                "artifact_sha256": summary["artifact_sha256"], "pipeline_sha256": summary["pipeline_sha256"],
                "serving": summary["serving"],
                "lineage": {**claimed.lineage, "train_rows": summary["train_rows"],
                            "holdout_rows": summary["holdout_rows"], **({"training_job": job} if job else {})}},
    )
    ctx.events.publish(DetailType.MODEL_TRAINED, {
        "model": claimed.model, "version": claimed.version, "data_version": claimed.data_version,
        "data_versions": list(summary["data_versions"]), "window": summary["window"],
        "family": summary["family"], "cv": summary["cv"], "correlation_id": correlation_id,
    })
    return {"outcome": "trained", "model": claimed.model, "version": claimed.version,
            "data_version": claimed.data_version, "family": summary["family"], "cv": summary["cv"]}


def fail_training(ctx: StepContext, claimed: ModelVersion, reason: str, *, correlation_id: str,
                  job: dict[str, Any] | None = None) -> dict[str, Any]:
    """The version fails with ``reason`` (announced as TrainingFailed, not retried)."""
    fields = {"lineage": {**claimed.lineage, "training_job": job}} if job else None
    ctx.registry.transition(claimed.model, claimed.version, to=Status.FAILED, reason=reason, actor=ACTOR,
                            correlation_id=correlation_id, fields=fields)
    ctx.events.publish(DetailType.TRAINING_FAILED, {
        "model": claimed.model, "version": claimed.version, "data_version": claimed.data_version,
        "reason": reason, "correlation_id": correlation_id,
    })
    return {"outcome": "failed", "model": claimed.model, "version": claimed.version, "reason": reason}
