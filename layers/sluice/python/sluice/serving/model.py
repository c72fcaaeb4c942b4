"""Run an ONNX model on request instances with onnxruntime (one thread, sequential)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import onnxruntime as ort

from sluice.serving.errors import InvalidInstances, ModelLoadError
from sluice.serving.instances import read_instances
from sluice.serving.reading import ValueViolation
from sluice.serving.signature import ModelSignature

if TYPE_CHECKING:
    from sluice.explain.model import Explainer

_TENSOR_TYPES = {"float": "tensor(float)", "string": "tensor(string)"}


@dataclass(frozen=True)
class Prediction:
    """One output per instance: a class label (classification) or a value (regression); ``violations`` lists
    the contract violations of a request answered although it broke the contract (``on_violation = "flag"``)."""

    outputs: list[Any]
    probabilities: list[dict[str, float]] | None = None
    violations: tuple[ValueViolation, ...] = ()


@dataclass(frozen=True)
class Outputs:
    """What a model computed for a batch of input tensors, unchecked: ``values`` holds the class labels
    (classification) or the predicted values (regression, float64); ``scores`` the class probabilities
    (float64, one column per name in ``classes``)."""

    values: np.ndarray
    scores: np.ndarray | None = None
    classes: tuple[str, ...] = ()


class ServedModel(Protocol):
    """What the endpoint and the evaluation need of a loaded model (ONNX, or the scikit-learn fallback)."""

    @property
    def signature(self) -> ModelSignature: ...

    def predict(self, instances: list[dict[str, Any]]) -> Prediction: ...

    def explainer(self) -> Explainer | None:
        """Per-prediction explanations of this model (None where the artifact carries none)."""
        ...


class OnnxModel:
    """A loaded model and its signature; build it with :meth:`from_bytes`."""

    def __init__(self, session: ort.InferenceSession, signature: ModelSignature) -> None:
        _check_session(session, signature)
        self._session = session
        self._signature = signature
        self._output_names = [output.name for output in session.get_outputs()]
        renamed = {spec.name: spec.tensor_name for spec in signature.inputs if spec.tensor is not None}
        self._tensor_names = renamed or None
        self._explainer: Explainer | None = None

    @classmethod
    def from_bytes(cls, onnx_bytes: bytes, signature: ModelSignature) -> OnnxModel:
        """Load serialized ONNX bytes; raise ``ModelLoadError`` if unusable or not matching ``signature``."""
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(onnx_bytes, sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as error:
            raise ModelLoadError(f"cannot load the ONNX model: {error}") from error
        return cls(session, signature)

    @property
    def signature(self) -> ModelSignature:
        return self._signature

    def with_signature(self, signature: ModelSignature) -> OnnxModel:
        """The same loaded model served with another signature (same inputs; e.g. another on_violation)."""
        return OnnxModel(self._session, signature)

    def explainer(self) -> Explainer | None:
        """The explainer exported with the model (in its metadata), decoded on first use."""
        if self._explainer is None:
            from sluice.explain.model import METADATA_KEY, Explainer  # :explain requests only, not the init

            text = self._session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
            self._explainer = None if text is None else Explainer.from_text(text)
        return self._explainer

    def predict(self, instances: list[dict[str, Any]]) -> Prediction:
        """Predict for a list of feature objects; raise ``InvalidInstances`` if they do not fit."""
        read = read_instances(instances, self._signature)
        return prediction_of(self.run(read.tensors), read.violations)

    def run(self, tensors: dict[str, np.ndarray]) -> Outputs:
        """The model's outputs for input tensors already read (``{input name: [N, 1] tensor}``), unchecked."""
        feeds = tensors
        if self._tensor_names is not None:
            feeds = {self._tensor_names.get(name, name): tensor for name, tensor in feeds.items()}
        results = self._session.run(self._output_names, feeds)
        if self._signature.classes is None:
            return Outputs(np.asarray(results[0], dtype=np.float64).reshape(-1))
        labels = np.asarray(results[0]).reshape(-1)
        return Outputs(labels, np.asarray(results[1], dtype=np.float64), self._signature.classes)


def prediction_of(outputs: Outputs, violations: tuple[ValueViolation, ...]) -> Prediction:
    """A model's outputs as the answer to a request: labels as text, probabilities by class; raise
    ``InvalidInstances`` when one is not a finite number."""
    if outputs.scores is None:
        check_finite(outputs.values.reshape(-1, 1), "prediction")
        return Prediction(outputs=outputs.values.tolist(), violations=violations)
    labels = outputs.values
    texts = labels.tolist() if labels.dtype == object else [str(label) for label in labels.tolist()]
    check_finite(outputs.scores.reshape(len(texts), -1), "probabilities")
    probabilities = [dict(zip(outputs.classes, row, strict=True)) for row in outputs.scores.tolist()]
    return Prediction(outputs=texts, probabilities=probabilities, violations=violations)


def answering_violations(model: ServedModel) -> ServedModel:
    """``model`` answering requests that break its contract (violations flagged, not refused): for scoring a
    model on data of a newer contract, e.g. live on a candidate's holdout."""
    replace = getattr(model, "with_signature", None)
    if replace is None or model.signature.on_violation == "flag":
        return model
    answering: ServedModel = replace(dataclasses.replace(model.signature, on_violation="flag"))
    return answering


def check_finite(rows: np.ndarray, what: str) -> None:
    """Refuse an answer JSON cannot carry: feature values so extreme that the model's output is NaN or infinite."""
    bad = ~np.isfinite(rows).all(axis=1)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise InvalidInstances(f"instance {index}: the model's {what} is not a finite number for these feature "
                               f"values ({rows[index].tolist()}); they are outside the range it can score")


def _check_session(session: ort.InferenceSession, signature: ModelSignature) -> None:
    actual = {item.name: item.type for item in session.get_inputs()}
    expected = {spec.tensor_name: _TENSOR_TYPES[spec.kind] for spec in signature.inputs}
    if actual != expected:
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        mistyped = sorted(name for name in set(actual) & set(expected) if actual[name] != expected[name])
        raise ModelLoadError(
            f"the ONNX inputs do not match the signature (missing {missing}, unexpected {extra}, wrong type {mistyped})"
        )
    wanted = 2 if signature.task == "classification" else 1
    if len(session.get_outputs()) < wanted:
        raise ModelLoadError(f"a {signature.task} model needs {wanted} outputs, the ONNX model has fewer")
