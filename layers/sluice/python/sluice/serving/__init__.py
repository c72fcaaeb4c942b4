"""Serve ONNX models: signatures, request instances, integrity checks (numpy + onnxruntime only)."""

from __future__ import annotations

from sluice.serving.errors import (
    IntegrityError,
    InvalidInstances,
    ModelLoadError,
    ServingError,
    SignatureError,
)
from sluice.serving.instances import BOOL_TEXT, MAX_INSTANCES, ReadInstances, build_inputs, read_instances
from sluice.serving.integrity import sha256_hex, verify_sha256
from sluice.serving.model import OnnxModel, Prediction, ServedModel, answering_violations
from sluice.serving.reading import ValueViolation
from sluice.serving.signature import InputKind, InputSpec, ModelSignature, OtherColumn

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
    "OtherColumn",
    "Prediction",
    "ReadInstances",
    "ServedModel",
    "ServingError",
    "SignatureError",
    "ValueViolation",
    "answering_violations",
    "build_inputs",
    "read_instances",
    "sha256_hex",
    "verify_sha256",
]
