"""The files of a model version under models/<model>/<version>/, and verified loading."""

from __future__ import annotations

import hashlib
import json

from sluice.serving import IntegrityError, ModelSignature, OnnxModel, ServedModel, verify_sha256
from sluice.serving.formats import ONNX_FORMAT, SKLEARN_FORMAT
from sluice.storage import ObjectStore, model_artifact_key

MODEL_FILE = "model.onnx"
PIPELINE_FILE = "pipeline.pkl"
SIGNATURE_FILE = "signature.json"
TRAINING_FILE = "training.json"
EVALUATION_FILE = "evaluation.json"
CARD_JSON_FILE = "model_card.json"
CARD_HTML_FILE = "model_card.html"
REFIT_DIR = "refit"
"""The folder of a version's files refit on train + holdout after its gate (``training.refit_on_all``)."""
REFIT_FILE = "refit.json"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_verified_model(store: ObjectStore, model: str, version: int, expected_sha256: str) -> ServedModel:
    """Download the served artifact, check its sha256 against the registry, then load it.

    ONNX runs on onnxruntime; a scikit-learn pipeline (the fallback) is unpickled only after the check. A version
    refit on all rows after its gate (``training.refit_on_all``) ships the files under ``refit/``: when the
    registered sha256 is not the gated artifact's, the refit's is tried (and checked the same way).
    """
    try:
        return _load_verified(store, model, version, expected_sha256, folder="")
    except IntegrityError:
        if not store.exists(model_artifact_key(model, version, f"{REFIT_DIR}/{SIGNATURE_FILE}")):
            raise
    return _load_verified(store, model, version, expected_sha256, folder=f"{REFIT_DIR}/")


def _load_verified(store: ObjectStore, model: str, version: int, expected_sha256: str, *, folder: str
                   ) -> ServedModel:
    signature_document = json.loads(store.get_bytes(model_artifact_key(model, version, folder + SIGNATURE_FILE)))
    signature = ModelSignature.from_dict(signature_document)
    if signature_document.get("format", ONNX_FORMAT) == SKLEARN_FORMAT:
        pipeline_bytes = store.get_bytes(model_artifact_key(model, version, folder + PIPELINE_FILE))
        verify_sha256(pipeline_bytes, expected_sha256)
        from sluice.serving.sklearn_model import SklearnModel

        return SklearnModel.from_verified_bytes(pipeline_bytes, signature)
    onnx_bytes = store.get_bytes(model_artifact_key(model, version, folder + MODEL_FILE))
    verify_sha256(onnx_bytes, expected_sha256)
    return OnnxModel.from_bytes(onnx_bytes, signature)
