"""refit_on_all: once a candidate passed its gate, refit it on train + holdout and store the refit as the
version's shipped artifact (under ``models/<model>/<version>/refit/``; the gated files stay as they are)."""

from __future__ import annotations

import pickle
from typing import Any

import pandas as pd

from sluice.artifacts import (
    MODEL_FILE,
    PIPELINE_FILE,
    REFIT_DIR,
    REFIT_FILE,
    SIGNATURE_FILE,
    sha256_hex,
)
from sluice.config.deployment import ONNX_FORMAT, SKLEARN_FORMAT
from sluice.config.model import ModelConfig
from sluice.registry import ModelVersion
from sluice.serving import verify_sha256
from sluice.steps.context import StepContext
from sluice.storage import model_artifact_key, model_prefix
from sluice.training import ExportError, TrainingError, export_onnx, refit_on_all, signature_for


def refit_approved(ctx: StepContext, model: ModelConfig, candidate: ModelVersion, frame: pd.DataFrame,
                   holdout: pd.DataFrame) -> dict[str, Any]:
    """Refit ``candidate``'s pipeline on ``frame`` (every row) and store it; what happened, for the card.

    The ONNX parity check runs on the holdout rows as for the gated model. A refit that cannot be exported in the
    gated model's serving format is not shipped (the gated artifact is, and the card says why). Idempotent: the
    summary is written last, and a rerun that finds it returns it unchanged.
    """
    summary_key = _key(model, candidate, REFIT_FILE)
    if ctx.artifacts.exists(summary_key):
        document: dict[str, Any] = ctx.artifacts.get_json(summary_key)
        return document
    base = {"applied": False, "rows": len(frame), "gated_artifact_sha256": candidate.artifact_sha256}
    gated_bytes = ctx.artifacts.get_bytes(model_artifact_key(model.name, candidate.version, PIPELINE_FILE))
    verify_sha256(gated_bytes, candidate.pipeline_sha256)
    try:
        result = refit_on_all(pickle.loads(gated_bytes), frame, model, family=candidate.family)  # sha256 verified
    except (TrainingError, ValueError) as error:
        return {**base, "reason": f"refit failed: {error}"}
    pipeline_bytes = pickle.dumps(result.pipeline, protocol=pickle.HIGHEST_PROTOCOL)
    extra: dict[str, Any] = {}
    if candidate.serving == ONNX_FORMAT:
        try:
            exported = export_onnx(result, model, holdout)
        except ExportError as error:
            return {**base, "reason": f"the refit failed its ONNX export: {error}"}
        served, signature, artifact = ONNX_FORMAT, exported.signature, exported.onnx_bytes
        extra = {"onnx_max_abs_diff": exported.max_abs_diff, "onnx_labels_agree": exported.labels_agree}
        ctx.artifacts.put_bytes(_key(model, candidate, MODEL_FILE), artifact)
    else:
        served, signature, artifact = SKLEARN_FORMAT, signature_for(model, result.classes), pipeline_bytes
    ctx.artifacts.put_bytes(_key(model, candidate, PIPELINE_FILE), pipeline_bytes)
    ctx.artifacts.put_json(_key(model, candidate, SIGNATURE_FILE), {**signature.to_dict(), "format": served})
    document = {
        **base, "applied": True, "serving": served, "artifact_sha256": sha256_hex(artifact),
        "pipeline_sha256": sha256_hex(pipeline_bytes), "params": result.params,
        "artifact_prefix": model_prefix(model.name, candidate.version) + f"{REFIT_DIR}/",
        "duration_s": round(result.duration_s, 3), **extra,
    }
    ctx.artifacts.put_json(summary_key, document)
    return document


def _key(model: ModelConfig, candidate: ModelVersion, name: str) -> str:
    return model_artifact_key(model.name, candidate.version, f"{REFIT_DIR}/{name}")
