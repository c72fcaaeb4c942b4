"""Render a drafted contract as a ``[models.<name>]`` table that the strict loader accepts as is (with the reason
for every non-obvious choice as a comment), or as JSON-ready data."""

from __future__ import annotations

import math
from typing import Any

from sluice.config.model import CLASSIFICATION_FAMILIES, REGRESSION_FAMILIES, ColumnSpec
from sluice.data.infer import DraftContract

TUNING_TRIALS = 8
TUNING_TIMEOUT_S = 20
AUC_REGRESSION = 0.01
RMSE_REGRESSION_OF_SPREAD = 0.02
"""A new regression version may be worse than live by this fraction of the target's standard deviation."""


def families(draft: DraftContract) -> tuple[str, ...]:
    return CLASSIFICATION_FAMILIES if draft.task == "classification" else REGRESSION_FAMILIES


def gates(draft: DraftContract) -> tuple[str, float]:
    """The primary metric and how much worse than live a new version may be on it."""
    if draft.task == "classification":
        return "roc_auc", AUC_REGRESSION
    spread = draft.target_spread or 0.0
    return "rmse", _significant(RMSE_REGRESSION_OF_SPREAD * spread) if spread > 0 else 0.0


def contract_toml(model: str, draft: DraftContract, *, source: str | None = None) -> str:
    """The draft as a ``[models.<model>]`` TOML table that sluice.toml accepts as is."""
    contract = draft.contract
    metric, regression = gates(draft)
    table = f"models.{_key(model)}"
    origin = f" of {source}" if source else ""
    lines = [
        f"# Drafted by `sluice contract infer` from {draft.rows} sample rows{origin}: review every role, range "
        "and category.",
        *_target_warning(draft),
        f"[{table}]",
        f"task = {_toml(draft.task)}",
        "",
        f"[{table}.training]",
        f"families = {_toml(list(families(draft)))}",
        "cv_folds = 5",
        "holdout_fraction = 0.2",
        "seed = 42",
        "",
        "# Bayesian search (Optuna TPE, seeded) over every family; stops at whichever limit comes first.",
        f"[{table}.training.tuning]",
        f"trials = {TUNING_TRIALS}",
        f"timeout_s = {TUNING_TIMEOUT_S}",
        "",
        f"[{table}.gates]",
        f"primary_metric = {_toml(metric)}",
        f"max_regression = {_toml(regression)}  # how much worse than live's {metric} a new version may be",
        "",
        f"[{table}.contract]",
        f"target = {_toml(contract.target)}",
        f"target_type = {_toml(contract.target_type)}",
    ]
    if contract.target_values is not None:
        lines.append(f"target_values = {_toml(list(contract.target_values))}  # as spelled in the file")
    if contract.positive is not None:
        reason = draft.target.positive_reason if draft.target is not None else None
        lines.append(f"positive = {_toml(contract.positive)}" + (f"  # {_comment(reason)}" if reason else ""))
    lines.append(f"min_rows = {contract.min_rows}")
    if contract.null_tokens:
        lines.append(f"null_tokens = {_toml(list(contract.null_tokens))}  # spellings of a missing value in the sample")
    if contract.timestamp is not None:
        stamp = contract.timestamp
        lines.append(f"timestamp = {{ name = {_toml(stamp.name)}, nullable = {_toml(stamp.nullable)} }}")
    for spec in contract.columns:
        note = draft.notes.get(spec.name)
        lines.append("")
        if note:
            lines.append(f"# {_comment(note)}")
        lines += [f"[[{table}.contract.columns]]", f"name = {_toml(spec.name)}", f"type = {_toml(spec.type)}"]
        lines += [f"{key} = {_toml(value)}" for key, value in _options(spec)]
    return "\n".join(lines) + "\n"


def _target_warning(draft: DraftContract) -> list[str]:
    missing = 0 if draft.target is None else draft.target.missing
    if not missing:
        return []
    return [f"# warning: {missing} sample rows have no {draft.contract.target!r}: a file with unlabelled rows is "
            "rejected (the target is never nullable); drop them before the drop."]


def contract_document(draft: DraftContract) -> dict[str, Any]:
    """The draft as JSON-ready data (the same fields as the TOML, and the reasons)."""
    contract = draft.contract
    metric, regression = gates(draft)
    return {
        "task": draft.task, "rows_sampled": draft.rows, "target": contract.target,
        "target_type": contract.target_type,
        "target_values": None if contract.target_values is None else list(contract.target_values),
        "positive": contract.positive,
        "positive_reason": None if draft.target is None else draft.target.positive_reason,
        "min_rows": contract.min_rows, "null_tokens": list(contract.null_tokens),
        "timestamp": None if contract.timestamp is None else {"name": contract.timestamp.name,
                                                             "nullable": contract.timestamp.nullable},
        "families": list(families(draft)), "tuning": {"trials": TUNING_TRIALS, "timeout_s": TUNING_TIMEOUT_S},
        "gates": {"primary_metric": metric, "max_regression": regression},
        "columns": [{"name": spec.name, "type": spec.type, "role": spec.role, **dict(_options(spec)),
                     **({"note": draft.notes[spec.name]} if spec.name in draft.notes else {})}
                    for spec in contract.columns],
    }


def _options(spec: ColumnSpec) -> list[tuple[str, Any]]:
    options: list[tuple[str, Any]] = []
    if spec.role != ("id" if spec.unique else "feature"):
        options.append(("role", spec.role))
    if spec.nullable:
        options.append(("nullable", True))
    for key, bound in (("min", spec.min), ("max", spec.max)):
        if bound is not None:
            options.append((key, int(bound) if spec.type == "int" else bound))
    if spec.allowed is not None:
        options.append(("allowed", list(spec.allowed)))
    if spec.unique:
        options.append(("unique", True))
    return options


def _significant(value: float, digits: int = 2) -> float:
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _comment(text: str) -> str:
    return " ".join(text.split())


def _key(name: str) -> str:
    """A TOML key: bare when it can be, quoted otherwise."""
    bare = name and all(char.isascii() and (char.isalnum() or char in "-_") for char in name)
    return name if bare else _toml_string(name)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if value != value else str(value).lower())
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return _toml_string(str(value))


def _toml_string(text: str) -> str:
    escaped = []
    for char in text:
        if char in ('"', "\\"):
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'
