"""Serve a scikit-learn pipeline when its ONNX export disagreed with it (the fallback; heavy imports).

Not re-exported by ``sluice.serving``: the ONNX predict path never imports scikit-learn or pandas. The pickle
is only unpickled by :func:`sluice.artifacts.load_verified_model` after its sha256 matched the registry.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from sluice.explain.model import Explainer
from sluice.serving.instances import read_instances
from sluice.serving.model import Outputs, Prediction, prediction_of
from sluice.serving.signature import ModelSignature


class SklearnModel:
    """A fitted scikit-learn pipeline behind the same ``predict(instances)`` as :class:`OnnxModel`."""

    def __init__(self, pipeline: Any, signature: ModelSignature) -> None:
        self._pipeline = pipeline
        self._signature = signature

    @classmethod
    def from_verified_bytes(cls, data: bytes, signature: ModelSignature) -> SklearnModel:
        """Unpickle a pipeline whose bytes were already checked against their recorded sha256."""
        return cls(pickle.loads(data), signature)  # verified against the registry sha256 first

    @property
    def signature(self) -> ModelSignature:
        return self._signature

    def explainer(self) -> Explainer | None:
        """None: the explainer travels in the ONNX artifact, which a fallback version does not serve."""
        return None

    def with_signature(self, signature: ModelSignature) -> SklearnModel:
        """The same pipeline served with another signature (same inputs; e.g. another on_violation)."""
        return SklearnModel(self._pipeline, signature)

    def predict(self, instances: list[dict[str, Any]]) -> Prediction:
        read = read_instances(instances, self._signature)
        return prediction_of(self.run(read.tensors), read.violations)

    def run(self, tensors: dict[str, np.ndarray]) -> Outputs:
        """The pipeline's outputs for input tensors already read (``{input name: [N, 1] tensor}``), unchecked."""
        import pandas as pd

        frame = pd.DataFrame({
            spec.name: tensors[spec.name].reshape(-1).astype(np.float64 if spec.kind == "float" else object)
            for spec in self._signature.inputs
        })
        outputs = self._pipeline.predict(frame)
        if self._signature.classes is None:
            return Outputs(np.asarray(outputs, dtype=np.float64).reshape(-1))
        labels = np.array([str(label) for label in outputs], dtype=object)
        classes = tuple(str(label) for label in self._pipeline.classes_)
        return Outputs(labels, np.asarray(self._pipeline.predict_proba(frame), dtype=np.float64), classes)
