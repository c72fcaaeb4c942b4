"""Export the chosen pipeline to ONNX and prove the export predicts what scikit-learn predicts."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from onnx import helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, StringTensorType

from sluice.config.model import ColumnSpec, ModelConfig
from sluice.contract.values import ValueRules
from sluice.explain.model import METADATA_KEY as EXPLAINER_KEY
from sluice.serving import MAX_INSTANCES, InputSpec, ModelLoadError, ModelSignature, OnnxModel
from sluice.serving.signature import OtherColumn
from sluice.training.errors import ExportError
from sluice.training.features import feature_frame, instances_from_frame
from sluice.training.onnx_compat import integer_missing_flags
from sluice.training.search import TrainingResult

TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
"""Opsets every onnxruntime the project supports (>= 1.18) can run."""

TOLERANCE = 1e-4
"""Largest allowed |onnx - sklearn|, relative to the value above 1 (ONNX computes in float32)."""


@dataclass(frozen=True)
class ExportedModel:
    """A verified ONNX artifact and the signature it is served with."""

    onnx_bytes: bytes
    signature: ModelSignature
    max_abs_diff: float
    labels_agree: bool


def signature_for(model: ModelConfig, classes: tuple[str, ...] | None) -> ModelSignature:
    """The serving signature of ``model``: one float or string input per feature column, each with the
    contract's rules for its values; the contract's other columns (id, timestamp, ignore) may be sent too."""
    contract = model.contract
    inputs = tuple(
        InputSpec(column.name, "string" if column.is_categorical else "float",
                  rules=value_rules(column, contract.null_tokens))
        for column in contract.features
    )
    others = [OtherColumn(column.name, column.role, column.type)  # type: ignore[arg-type]  # not "feature"
              for column in contract.columns if not column.is_feature]
    if contract.timestamp is not None:
        others.append(OtherColumn(contract.timestamp.name, "timestamp", "timestamp"))
    return ModelSignature(task=model.task, inputs=inputs, target=contract.target, classes=classes,
                          others=tuple(others), on_violation=model.serving.on_violation)


def value_rules(column: ColumnSpec, null_tokens: tuple[str, ...]) -> ValueRules:
    """What the endpoint requires of ``column``'s values: the contract's rules for it."""
    return ValueRules(type=column.type, nullable=column.nullable, minimum=column.min, maximum=column.max,
                      allowed=column.allowed, max_length=column.max_length, trim=column.trim,
                      null_tokens=null_tokens)


def export_onnx(result: TrainingResult, model: ModelConfig, sample: pd.DataFrame) -> ExportedModel:
    """Convert ``result.pipeline`` to ONNX and check it against scikit-learn on ``sample``.

    At most ``MAX_INSTANCES`` rows of ``sample`` are compared. Raise ``ExportError`` if conversion fails,
    a predicted label differs, or a probability/value differs by more than ``TOLERANCE``.
    """
    if sample.empty:
        raise ExportError("cannot verify the ONNX export on an empty sample")
    onnx_bytes, signature = _convert(result, model, signature_for(model, result.classes))
    try:  # the check answers every sample row, even one outside the contract (read as served when flagged)
        onnx_model = OnnxModel.from_bytes(onnx_bytes, dataclasses.replace(signature, on_violation="flag"))
    except ModelLoadError as error:
        raise ExportError(f"onnxruntime cannot load the {result.family} export: {error}") from error
    rows = sample.head(MAX_INSTANCES)
    expected, actual = _predictions(result, onnx_model, rows, model)
    difference = np.abs(actual - expected)
    max_abs_diff = float(difference.max())
    outside = int(np.sum(difference > TOLERANCE * np.maximum(1.0, np.abs(expected))))
    if outside:
        raise ExportError(
            f"the {result.family} ONNX export disagrees with scikit-learn: max abs diff {max_abs_diff:.3g} "
            f"exceeds the tolerance {TOLERANCE:g} on {outside} of {difference.size} values"
        )
    return ExportedModel(onnx_bytes, signature, max_abs_diff, labels_agree=True)


def _predictions(
    result: TrainingResult, onnx_model: OnnxModel, rows: pd.DataFrame, model: ModelConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(scikit-learn, ONNX) values or probabilities on ``rows``; raise if a predicted label differs."""
    prediction = onnx_model.predict(instances_from_frame(rows, model))
    features = feature_frame(rows, model)
    if result.classes is None:
        expected = np.asarray(result.pipeline.predict(features), dtype=np.float64)
        return expected, np.asarray(prediction.outputs, dtype=np.float64)
    _check_labels([str(label) for label in result.pipeline.predict(features)], prediction.outputs, result.family)
    expected = np.asarray(result.pipeline.predict_proba(features), dtype=np.float64)
    probabilities = prediction.probabilities or []
    actual = np.array([[row[label] for label in result.classes] for row in probabilities], dtype=np.float64)
    return expected, actual


def _convert(result: TrainingResult, model: ModelConfig, signature: ModelSignature) -> tuple[bytes, ModelSignature]:
    """The ONNX bytes and the signature that serves them (with the graph's input names, see InputSpec.tensor)."""
    initial_types = [
        (spec.name, FloatTensorType([None, 1]) if spec.kind == "float" else StringTensorType([None, 1]))
        for spec in signature.inputs
    ]
    options: dict[Any, Any] = {}
    if result.classes is not None:
        options[id(result.pipeline.named_steps["estimator"])] = {"zipmap": False}
    try:
        with integer_missing_flags():
            onnx_model = convert_sklearn(
                result.pipeline,
                name=model.name,
                initial_types=initial_types,
                target_opset=TARGET_OPSET,
                options=options,
            )
    except Exception as error:
        raise ExportError(f"skl2onnx cannot convert the {result.family} pipeline: {_first_line(error)}") from error
    signature = _with_tensor_names(signature, [item.name for item in onnx_model.graph.input])
    onnx_model.doc_string = f"sluice model {model.name!r}: {result.family}"
    helper.set_model_props(
        onnx_model,
        {
            "sluice.model": model.name,
            "sluice.family": result.family,
            "sluice.signature": json.dumps(signature.to_dict()),
            **({EXPLAINER_KEY: result.explainer.to_text()} if result.explainer is not None else {}),
        },
    )
    return bytes(onnx_model.SerializeToString()), signature


def _with_tensor_names(signature: ModelSignature, graph_inputs: list[str]) -> ModelSignature:
    """Record the graph input skl2onnx made of each feature (same order; renamed ones when not identifiers).

    A wrong pairing cannot pass unnoticed: the export is then checked against scikit-learn row by row.
    """
    if len(graph_inputs) != len(signature.inputs):
        raise ExportError(f"the ONNX export has {len(graph_inputs)} inputs for {len(signature.inputs)} features")
    inputs = tuple(
        spec if tensor == spec.name else dataclasses.replace(spec, tensor=tensor)
        for spec, tensor in zip(signature.inputs, graph_inputs, strict=True)
    )
    return dataclasses.replace(signature, inputs=inputs)


def _check_labels(expected: list[str], actual: list[Any], family: str) -> None:
    mismatches = [index for index, (want, got) in enumerate(zip(expected, actual, strict=True)) if want != got]
    if mismatches:
        first = mismatches[0]
        raise ExportError(
            f"the {family} ONNX export predicts different labels on {len(mismatches)} of {len(expected)} "
            f"sample rows (row {first}: scikit-learn {expected[first]!r}, ONNX {actual[first]!r})"
        )


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:300] if text else ''}"
