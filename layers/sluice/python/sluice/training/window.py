"""Which accepted data versions a training uses (``[data]`` mode and window), and what makes two trainings equal."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sluice.config.model import ModelConfig
from sluice.data.versioning import VERSION_LENGTH, composite_version, contract_version
from sluice.registry.entities import DatasetRecord

DAY_S = 24 * 3600.0
FEEDBACK_ORIGIN = "feedback"


class EmptyWindowError(LookupError):
    """No accepted data version falls inside the model's window."""


@dataclass(frozen=True)
class TrainingData:
    """The accepted data versions one training concatenates, oldest acceptance first, and the window that chose
    them (recorded in lineage)."""

    datasets: tuple[DatasetRecord, ...]
    window: dict[str, Any]

    @property
    def data_versions(self) -> tuple[str, ...]:
        return tuple(dataset.data_version for dataset in self.datasets)

    @property
    def data_keys(self) -> tuple[str, ...]:
        return tuple(dataset.data_key for dataset in self.datasets)

    @property
    def data_version(self) -> str:
        """One version naming the whole training set (a single accepted version names itself)."""
        return composite_version(self.data_versions)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(source for dataset in self.datasets for source in dataset.sources)

    @property
    def contract_version(self) -> str:
        return self.datasets[-1].contract_version


def select_training_data(model: ModelConfig, datasets: list[DatasetRecord], *, now: float,
                         anchor: str | None = None) -> TrainingData:
    """The data versions ``model`` trains on now, from every accepted version of it (any order).

    ``snapshot``: the latest drop (``anchor``, when a DatasetAccepted event names one). ``append``: the drops
    inside the window — accepted in the last ``window_days`` days, then the last ``window_drops`` of those; no
    window: all. Only versions accepted under the contract of the newest one are concatenated (same normalized
    schema). With ``learn_from_feedback``, feedback datasets accepted since the first chosen drop join them.
    Raises EmptyWindowError when nothing qualifies.
    """
    settings = model.data
    ordered = sorted(datasets, key=lambda record: (record.accepted_at, record.data_version))
    if not ordered:
        raise EmptyWindowError(f"{model.name} has no accepted data yet")
    newest = next((record for record in ordered if record.data_version == anchor), ordered[-1])
    same_contract = [record for record in ordered if _compatible(record, newest)]
    drops = [record for record in same_contract if record.origin != FEEDBACK_ORIGIN]
    since = None if settings.window_days is None else now - settings.window_days * DAY_S
    if settings.mode == "snapshot":
        chosen = [newest] if newest.origin != FEEDBACK_ORIGIN else drops[-1:]
    else:
        chosen = [record for record in drops if since is None or _epoch(record.accepted_at) >= since]
        chosen = chosen[-settings.window_drops:] if settings.window_drops is not None else chosen
    start = chosen[0].accepted_at if chosen else ""
    feedback = [record for record in same_contract
                if settings.learn_from_feedback and record.origin == FEEDBACK_ORIGIN and record.accepted_at >= start
                and (since is None or _epoch(record.accepted_at) >= since)]
    selected = tuple(sorted((*chosen, *feedback), key=lambda record: (record.accepted_at, record.data_version)))
    window = {
        "mode": settings.mode, "window_drops": settings.window_drops, "window_days": settings.window_days,
        "learn_from_feedback": settings.learn_from_feedback, "contract_version": newest.contract_version,
        "drops": len(chosen), "feedback_datasets": len(feedback),
        "excluded_other_contract": len(ordered) - len(same_contract),
        "first_accepted_at": selected[0].accepted_at if selected else None,
        "last_accepted_at": selected[-1].accepted_at if selected else None,
    }
    if not selected:
        raise EmptyWindowError(f"no accepted data of {model.name} inside its window ({_describe(window)})")
    return TrainingData(datasets=selected, window=window)


def training_fingerprint(model: ModelConfig, data_versions: tuple[str, ...]) -> str:
    """What decides a trained model: the data versions (in order), the task, the contract and the training
    settings. Two trainings with the same fingerprint would ship the same model."""
    canonical = json.dumps({
        "data_versions": list(data_versions), "task": model.task, "contract": contract_version(model.contract),
        "training": dataclasses.asdict(model.training),
    }, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:VERSION_LENGTH]


def _compatible(record: DatasetRecord, newest: DatasetRecord) -> bool:
    return not newest.contract_version or record.contract_version in ("", newest.contract_version)


def _epoch(at: str) -> float:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


def _describe(window: dict[str, Any]) -> str:
    parts = [f"mode {window['mode']}"]
    if window["window_drops"] is not None:
        parts.append(f"last {window['window_drops']} drops")
    if window["window_days"] is not None:
        parts.append(f"last {window['window_days']:g} days")
    return ", ".join(parts)
