"""Serve ONNX models: signatures, request instances, integrity checks (numpy + onnxruntime only)."""

from __future__ import annotations

from sluice.serving.errors import (
    IntegrityError,
    InvalidInstances,
    ModelLoadError,
    ServingError,
    SignatureError,
)
from sluice.serving.instances import BOOL_TEXT, MAX_INSTANCES, build_inputs
from sluice.serving.integrity import sha256_hex, verify_sha256
from sluice.serving.model import OnnxModel, Prediction, ServedModel
from sluice.serving.signature import InputKind, InputSpec, ModelSignature

__all__ = [
    "BOOL_TEXT",
    "MAX_INSTANCES",
    "InputKind",
    "InputSpec",
    "IntegrityError",
    "InvalidInstances",
    "ModelLoadError",
    "ModelSignature",
    "OnnxModel",
    "Prediction",
    "ServedModel",
    "ServingError",
    "SignatureError",
    "build_inputs",
    "sha256_hex",
    "verify_sha256",
]
