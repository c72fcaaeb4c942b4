"""What a served model takes and returns: its inputs, task, target and classes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from sluice.serving.errors import SignatureError

InputKind = Literal["float", "string"]
Task = Literal["classification", "regression"]

INPUT_KINDS: tuple[InputKind, ...] = ("float", "string")
TASKS: tuple[Task, ...] = ("classification", "regression")


@dataclass(frozen=True)
class InputSpec:
    """One model input: a ``[N, 1]`` tensor fed from the feature column ``name``.

    ``tensor`` is the ONNX graph input's name when the converter changed it (skl2onnx replaces characters
    such as spaces and "/": "mean radius" becomes "mean_radius"); requests still use ``name``.
    """

    name: str
    kind: InputKind
    tensor: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SignatureError(f"input names must be non-empty strings, got {self.name!r}")
        if self.kind not in INPUT_KINDS:
            raise SignatureError(f"input {self.name!r}: kind must be one of {INPUT_KINDS}, got {self.kind!r}")
        if self.tensor is not None and (not isinstance(self.tensor, str) or not self.tensor):
            raise SignatureError(f"input {self.name!r}: tensor must be a non-empty string, got {self.tensor!r}")

    @property
    def tensor_name(self) -> str:
        """The name of the model's input tensor for this feature."""
        return self.name if self.tensor is None else self.tensor

    def to_dict(self) -> dict[str, str]:
        document = {"name": self.name, "kind": self.kind}
        return document if self.tensor is None else {**document, "tensor": self.tensor}


@dataclass(frozen=True)
class ModelSignature:
    """The contract between a model artifact and the requests it serves."""

    task: Task
    inputs: tuple[InputSpec, ...]
    target: str
    classes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise SignatureError(f"task must be one of {TASKS}, got {self.task!r}")
        if not self.inputs:
            raise SignatureError("a signature needs at least one input")
        names = [spec.name for spec in self.inputs]
        if len(set(names)) != len(names):
            raise SignatureError(f"input names must be unique, got {names}")
        tensors = [spec.tensor_name for spec in self.inputs]
        if len(set(tensors)) != len(tensors):
            raise SignatureError(f"input tensor names must be unique, got {tensors}")
        if self.task == "classification":
            if self.classes is None or len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
                raise SignatureError(f"classification needs at least two distinct classes, got {self.classes}")
            if not all(isinstance(label, str) for label in self.classes):
                raise SignatureError(f"classes must be strings, got {self.classes}")
        elif self.classes is not None:
            raise SignatureError("regression models have no classes")

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.inputs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, the inverse of :meth:`from_dict`."""
        return {
            "task": self.task,
            "inputs": [spec.to_dict() for spec in self.inputs],
            "target": self.target,
            "classes": None if self.classes is None else list(self.classes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSignature:
        """Rebuild a signature from :meth:`to_dict` output; raise ``SignatureError`` if malformed."""
        try:
            inputs = tuple(InputSpec(name=item["name"], kind=item["kind"], tensor=item.get("tensor"))
                           for item in data["inputs"])
            classes = data.get("classes")
            return cls(
                task=cast(Task, data["task"]),
                inputs=inputs,
                target=str(data["target"]),
                classes=None if classes is None else tuple(classes),
            )
        except (KeyError, TypeError) as error:
            raise SignatureError(f"malformed model signature: {error!r}") from error
