"""Serve ONNX models: signatures, request instances, integrity checks (numpy + onnxruntime only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
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

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
