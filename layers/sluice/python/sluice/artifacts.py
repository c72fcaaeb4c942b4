"""The files of a model version under models/<model>/<version>/, and verified loading."""

from __future__ import annotations

import hashlib
import json

from sluice.serving import ModelSignature, OnnxModel, verify_sha256
from sluice.storage import ObjectStore, model_artifact_key

MODEL_FILE = "model.onnx"
SIGNATURE_FILE = "signature.json"
TRAINING_FILE = "training.json"
EVALUATION_FILE = "evaluation.json"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_verified_model(store: ObjectStore, model: str, version: int, expected_sha256: str) -> OnnxModel:
    """Download the ONNX model, check its sha256 against the registry, then load it."""
    onnx_bytes = store.get_bytes(model_artifact_key(model, version, MODEL_FILE))
    verify_sha256(onnx_bytes, expected_sha256)
    signature_document = json.loads(store.get_bytes(model_artifact_key(model, version, SIGNATURE_FILE)))
    signature = ModelSignature.from_dict(signature_document)
    return OnnxModel.from_bytes(onnx_bytes, signature)
