"""Explain predictions without scikit-learn: the pipeline's preprocessing and model as plain arrays.

Linear models are explained exactly: ``w·(z - mean z)`` summed over the columns a feature expands into, with the
base value ``b + w·mean z`` (the output at the training mean). Tree ensembles get path contributions (Saabas):
walking each tree from the root, every split credits its feature with the change in the node's expected value
(the count-weighted mean of the leaves below it); base = the ensemble's expected value. Splits are taken as the
served ONNX trees take them (float32 inputs; float32 thresholds for gradient boosting), so a path is the served
model's even where scikit-learn's differs. Both are additive: base + the sum of the contributions is the model's
raw output for that row — log-odds for logistic regression and gradient boosting, the class probability for a
random forest, the value for a regression.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

METADATA_KEY = "sluice.explainer"
MAX_EXPLAIN_INSTANCES = 100
"""The most instances one explain call may carry: its cost grows with instances x trees x depth."""


@dataclass(frozen=True)
class Explanation:
    """One instance: the explained output (and class), its base value, and each feature's contribution."""

    output: str
    label: str | None
    base: float
    value: float
    contributions: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        top = sorted(self.contributions.items(), key=lambda item: -abs(item[1]))
        return {"output": self.output, "class": self.label, "base": self.base, "value": self.value,
                "contributions": dict(top)}


@dataclass(frozen=True)
class Explainer:
    """Preprocessing (impute, scale, one-hot) + a linear or tree model, all as arrays."""

    features: tuple[str, ...]
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]

    # -- serialization (into the ONNX metadata) --------------------------------------------------------

    def to_text(self) -> str:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **self.arrays)  # type: ignore[arg-type]
        document = {"features": list(self.features), "meta": self.meta,
                    "arrays": base64.b64encode(buffer.getvalue()).decode("ascii")}
        return json.dumps(document, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str) -> Explainer:
        document = json.loads(text)
        with np.load(io.BytesIO(base64.b64decode(document["arrays"])), allow_pickle=False) as loaded:
            arrays = {name: loaded[name] for name in loaded.files}
        return cls(tuple(document["features"]), arrays, dict(document["meta"]))

    @property
    def method(self) -> str:
        return str(self.meta["method"])

    # -- explaining ------------------------------------------------------------------------------------

    def explain(self, tensors: Mapping[str, np.ndarray], predicted: list[Any] | None = None) -> list[Explanation]:
        """One explanation per row of the serving tensors (``{input: [N, 1]}``, as the endpoint reads them).

        Multiclass models explain each row's ``predicted`` class; binary ones the second class (sklearn's
        positive side of the log-odds); regressions their value.
        """
        z = self.transform(tensors)
        base, contributions = (self._linear(z) if self.method == "linear" else self._trees(z))
        classes = self.meta.get("classes")
        outputs = base.shape[1]
        explanations = []
        for row in range(z.shape[0]):
            column = self._column(row, classes, outputs, predicted)
            label = None if classes is None else str(classes[column if outputs > 1 else 1])
            per_feature = contributions[row, :, column]
            explanations.append(Explanation(
                output=self._output_name(label), label=label, base=float(base[row, column]),
                value=float(base[row, column] + per_feature.sum()),
                contributions={name: float(per_feature[index]) for index, name in enumerate(self.features)}))
        return explanations

    def transform(self, tensors: Mapping[str, np.ndarray]) -> np.ndarray:
        """The preprocessed design matrix (float64): impute, scale, one-hot, in the pipeline's column order."""
        blocks = []
        numeric = [str(name) for name in self.meta["numeric"]]
        if numeric:
            values = np.column_stack([np.asarray(tensors[name], dtype=np.float64).reshape(-1) for name in numeric])
            medians = self.arrays["medians"]
            values = np.where(np.isnan(values), medians, values)
            if "scale" in self.arrays:
                values = (values - self.arrays["mean"]) / self.arrays["scale"]
            blocks.append(values)
        for index, name in enumerate(self.meta["categorical"]):
            text = np.asarray(tensors[name], dtype=object).reshape(-1)
            text = np.where(text == "", self.meta["fills"][index], text)
            categories = np.asarray(self.meta["categories"][index], dtype=object)
            blocks.append((text[:, None] == categories[None, :]).astype(np.float64))
        return np.hstack(blocks)

    def _linear(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        coef, intercept, mean = self.arrays["coef"], self.arrays["intercept"], self.arrays["z_mean"]
        base = np.broadcast_to(intercept + coef @ mean, (z.shape[0], coef.shape[0]))
        per_column = (z - mean)[:, :, None] * coef.T[None, :, :]  # rows x columns x outputs
        return np.asarray(base), self._by_feature(per_column)

    def _trees(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = self.arrays
        feature, threshold, left, right, leaf, value = (a["feature"], a["threshold"], a["left"], a["right"],
                                                        a["leaf"], a["value"])
        # the served ONNX trees take float32 inputs; a forest's thresholds keep their float64 decision (as in
        # scikit-learn), gradient boosting's are rounded to float32 (as skl2onnx exports them)
        x = z.astype(np.float32)
        if self.meta.get("float32_thresholds"):
            threshold = threshold.astype(np.float32)
        rows = np.arange(z.shape[0])
        per_column = np.zeros((z.shape[0], z.shape[1], value.shape[1]))
        base = np.zeros((z.shape[0], value.shape[1]))
        for root in a["roots"]:
            node = np.full(z.shape[0], root)
            base += value[root]
            while not leaf[node].all():
                active = ~leaf[node]
                split = feature[node]
                goes_left = x[rows, np.where(active, split, 0)] <= threshold[node]
                child = np.where(active, np.where(goes_left, left[node], right[node]), node)
                np.add.at(per_column, (rows[active], split[active]), value[child[active]] - value[node[active]])
                node = child
        scale = float(self.meta["tree_scale"])
        return base * scale + a["offset"], self._by_feature(per_column * scale)

    def _by_feature(self, per_column: np.ndarray) -> np.ndarray:
        owner = self.arrays["owner"]
        summed = np.zeros((len(self.features), per_column.shape[0], per_column.shape[2]))
        np.add.at(summed, owner, per_column.transpose(1, 0, 2))  # feature x rows x outputs
        return summed.transpose(1, 0, 2)

    def _column(self, row: int, classes: list[str] | None, outputs: int, predicted: list[Any] | None) -> int:
        if outputs == 1:
            return 0
        if classes is not None and predicted is not None and len(classes) > 2:
            return classes.index(str(predicted[row]))
        return 1  # binary with one column per class (a forest): the second class, as a log-odds model

    def _output_name(self, label: str | None) -> str:
        if label is None:
            return "prediction"
        return f"probability of {label!r}" if self.meta["raw"] == "probability" else f"log-odds of {label!r}"
