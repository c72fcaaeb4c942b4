"""What a served model takes and returns: its inputs, task, target and classes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from sluice.contract.values import ValueRules, ValueType
from sluice.serving.errors import SignatureError

InputKind = Literal["float", "string"]
Task = Literal["classification", "regression"]
OnViolation = Literal["reject", "flag"]
OtherRole = Literal["id", "timestamp", "ignore"]

INPUT_KINDS: tuple[InputKind, ...] = ("float", "string")
TASKS: tuple[Task, ...] = ("classification", "regression")
VALUE_TYPES: tuple[ValueType, ...] = ("float", "int", "string", "bool")
ON_VIOLATION: tuple[OnViolation, ...] = ("reject", "flag")
OTHER_ROLES: tuple[OtherRole, ...] = ("id", "timestamp", "ignore")


@dataclass(frozen=True)
class InputSpec:
    """One model input: a ``[N, 1]`` tensor fed from the feature column ``name``.

    ``tensor`` is the ONNX graph input's name when the converter changed it (skl2onnx replaces characters
    such as spaces and "/": "mean radius" becomes "mean_radius"); requests still use ``name``.
    ``rules`` are the contract's rules for the column (signatures written before they existed have none, and
    their requests are read as before: numbers as JSON numbers, text as JSON strings).
    """

    name: str
    kind: InputKind
    tensor: str | None = None
    rules: ValueRules | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SignatureError(f"input names must be non-empty strings, got {self.name!r}")
        if self.kind not in INPUT_KINDS:
            raise SignatureError(f"input {self.name!r}: kind must be one of {INPUT_KINDS}, got {self.kind!r}")
        if self.tensor is not None and (not isinstance(self.tensor, str) or not self.tensor):
            raise SignatureError(f"input {self.name!r}: tensor must be a non-empty string, got {self.tensor!r}")
        if self.rules is not None and (self.rules.type in ("float", "int")) != (self.kind == "float"):
            raise SignatureError(f"input {self.name!r}: a {self.rules.type} column cannot feed a {self.kind} input")

    @property
    def tensor_name(self) -> str:
        """The name of the model's input tensor for this feature."""
        return self.name if self.tensor is None else self.tensor

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.tensor is not None:
            document["tensor"] = self.tensor
        return document if self.rules is None else {**document, **_rules_dict(self.rules)}


@dataclass(frozen=True)
class OtherColumn:
    """A contract column a request may carry that is not fed to the model: ``id`` and ``timestamp`` columns
    are kept in the capture, ``ignore`` columns are dropped."""

    name: str
    role: OtherRole
    type: ValueType | Literal["timestamp"] = "string"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SignatureError(f"column names must be non-empty strings, got {self.name!r}")
        if self.role not in OTHER_ROLES:
            raise SignatureError(f"column {self.name!r}: role must be one of {OTHER_ROLES}, got {self.role!r}")

    @property
    def kept(self) -> bool:
        return self.role != "ignore"

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role, "type": self.type}


@dataclass(frozen=True)
class ModelSignature:
    """The contract between a model artifact and the requests it serves."""

    task: Task
    inputs: tuple[InputSpec, ...]
    target: str
    classes: tuple[str, ...] | None = None
    others: tuple[OtherColumn, ...] = ()
    """Contract columns a request may carry besides the inputs (optional, never fed to the model)."""
    on_violation: OnViolation = "reject"
    """A request that breaks the contract: refused (400), or answered with its violations listed."""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise SignatureError(f"task must be one of {TASKS}, got {self.task!r}")
        if not self.inputs:
            raise SignatureError("a signature needs at least one input")
        if self.on_violation not in ON_VIOLATION:
            raise SignatureError(f"on_violation must be one of {ON_VIOLATION}, got {self.on_violation!r}")
        names = [spec.name for spec in self.inputs] + [column.name for column in self.others]
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

    @property
    def null_tokens(self) -> tuple[str, ...]:
        """The contract's extra spellings of a missing value (every input's rules carry the same)."""
        return next((spec.rules.null_tokens for spec in self.inputs if spec.rules is not None), ())

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, the inverse of :meth:`from_dict`."""
        document: dict[str, Any] = {
            "task": self.task,
            "inputs": [spec.to_dict() for spec in self.inputs],
            "target": self.target,
            "classes": None if self.classes is None else list(self.classes),
        }
        if any(spec.rules is not None for spec in self.inputs):
            document["null_tokens"] = list(self.null_tokens)
        if self.others:
            document["others"] = [column.to_dict() for column in self.others]
        if self.on_violation != "reject":
            document["on_violation"] = self.on_violation
        return document

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSignature:
        """Rebuild a signature from :meth:`to_dict` output; raise ``SignatureError`` if malformed.

        Signatures written before inputs carried contract rules load without them (read as before).
        """
        try:
            tokens = tuple(str(token) for token in data.get("null_tokens", ()))
            inputs = tuple(InputSpec(name=item["name"], kind=item["kind"], tensor=item.get("tensor"),
                                     rules=_rules_from(item, tokens)) for item in data["inputs"])
            others = tuple(OtherColumn(item["name"], item["role"], item.get("type", "string"))
                           for item in data.get("others", ()))
            classes = data.get("classes")
            return cls(
                task=cast(Task, data["task"]),
                inputs=inputs,
                target=str(data["target"]),
                classes=None if classes is None else tuple(classes),
                others=others,
                on_violation=data.get("on_violation", "reject"),
            )
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, SignatureError):
                raise
            raise SignatureError(f"malformed model signature: {error!r}") from error


def _rules_dict(rules: ValueRules) -> dict[str, Any]:
    return {"type": rules.type, "nullable": rules.nullable, "min": rules.minimum, "max": rules.maximum,
            "allowed": None if rules.allowed is None else list(rules.allowed), "max_length": rules.max_length,
            "trim": rules.trim}


def _rules_from(item: Mapping[str, Any], null_tokens: tuple[str, ...]) -> ValueRules | None:
    if "type" not in item:
        return None
    kind = item["type"]
    if kind not in VALUE_TYPES:
        raise SignatureError(f"input {item['name']!r}: type must be one of {VALUE_TYPES}, got {kind!r}")
    allowed = item.get("allowed")
    return ValueRules(type=kind, nullable=bool(item.get("nullable", False)), minimum=_bound(item.get("min")),
                      maximum=_bound(item.get("max")), allowed=None if allowed is None else tuple(allowed),
                      max_length=item.get("max_length"), trim=bool(item.get("trim", False)),
                      null_tokens=null_tokens)


def _bound(value: Any) -> float | None:
    return None if value is None else float(value)
