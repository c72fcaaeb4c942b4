"""Typed, immutable view of the project configuration (one entry per model)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sluice.config.deployment import DeploymentSettings
from sluice.config.errors import ConfigError
from sluice.config.monitoring import MonitoringSettings
from sluice.naming import capture_field

Task = Literal["classification", "regression"]
ColumnType = Literal["float", "int", "string", "bool"]

MODEL_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
COLUMN_TYPES: tuple[ColumnType, ...] = ("float", "int", "string", "bool")
CLASSIFICATION_FAMILIES = ("logistic_regression", "random_forest", "hist_gradient_boosting")
REGRESSION_FAMILIES = ("ridge", "random_forest", "hist_gradient_boosting")
CLASSIFICATION_METRICS = ("roc_auc", "pr_auc", "accuracy", "f1", "log_loss", "brier", "ece")
REGRESSION_METRICS = ("rmse", "mae", "r2")
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "rmse", "mae"})


@dataclass(frozen=True)
class ColumnSpec:
    """One feature column of the data contract."""

    name: str
    type: ColumnType
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    unique: bool = False

    @property
    def is_categorical(self) -> bool:
        return self.type in ("string", "bool")


@dataclass(frozen=True)
class TimestampSpec:
    """The contract's optional timestamp column: ISO 8601 text or a native timestamp, within [min, max]."""

    name: str
    nullable: bool = False
    min: str | None = None
    max: str | None = None


@dataclass(frozen=True)
class DataContract:
    """What a dataset must look like before a model may learn from it."""

    columns: tuple[ColumnSpec, ...]
    target: str
    target_type: ColumnType
    target_values: tuple[Any, ...] | None = None
    min_rows: int = 50
    max_rows: int = 50_000_000
    max_null_fraction: float = 0.0
    min_class_fraction: float = 0.0
    timestamp: TimestampSpec | None = None

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> ColumnSpec:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


MAX_SEARCH_S = 600.0
"""The longest a search may run: train_model has at most 900 s on Lambda, and the refit of the best candidate,
its ONNX export and the uploads come after the search."""


@dataclass(frozen=True)
class TuningSettings:
    """The hyperparameter search budget: ``trials`` and/or ``timeout_s``; no budget trains the defaults only."""

    trials: int = 0
    timeout_s: float | None = None
    pruning: bool = True

    @property
    def enabled(self) -> bool:
        return self.trials > 0 or self.timeout_s is not None

    @property
    def search_timeout_s(self) -> float:
        """The wall-clock limit of the search: ``timeout_s``, and never more than MAX_SEARCH_S (trials-only too)."""
        return MAX_SEARCH_S if self.timeout_s is None else min(self.timeout_s, MAX_SEARCH_S)


@dataclass(frozen=True)
class TrainingSettings:
    """How candidates are searched and compared."""

    families: tuple[str, ...]
    cv_folds: int = 5
    holdout_fraction: float = 0.2
    seed: int = 42
    retrain_schedule: str | None = None
    tuning: TuningSettings = field(default_factory=TuningSettings)
    time_column: str | None = None
    """A numeric contract column ordering the rows in time: the holdout is then the latest rows."""


@dataclass(frozen=True)
class SliceGate:
    """A column whose slices (its values, or ``bins`` quantile bins if numeric) must not regress vs live."""

    column: str
    tolerance: float = 0.0
    metric: str | None = None
    """The metric compared per slice (default: the primary metric)."""
    bins: int = 4
    min_rows: int = 10
    """Slices with fewer holdout rows are reported but not gated."""


@dataclass(frozen=True)
class BootstrapSettings:
    """Percentile bootstrap confidence intervals of the holdout metrics (``samples = 0`` turns them off)."""

    samples: int = 200
    confidence: float = 0.95


@dataclass(frozen=True)
class EvaluationGates:
    """When a candidate may replace the live model."""

    primary_metric: str
    min_metrics: dict[str, float] = field(default_factory=dict)
    max_regression: float = 0.0
    """How much worse than live the primary metric may be."""
    margins: dict[str, float] = field(default_factory=dict)
    """Further metrics compared with live, each with how much worse it may be."""
    slices: tuple[SliceGate, ...] = ()
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)

    @property
    def live_margins(self) -> dict[str, float]:
        """Every metric compared with live and its margin, the primary metric first."""
        return {self.primary_metric: self.max_regression, **self.margins}


@dataclass(frozen=True)
class ModelConfig:
    """Everything sluice needs to know about one model."""

    name: str
    task: Task
    contract: DataContract
    training: TrainingSettings
    gates: EvaluationGates
    description: str = ""
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)
    deployment: DeploymentSettings = field(default_factory=DeploymentSettings)

    def __post_init__(self) -> None:
        _check_model(self)


@dataclass(frozen=True)
class ProjectConfig:
    """All models of one deployment."""

    models: dict[str, ModelConfig]

    def model(self, name: str) -> ModelConfig:
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(sorted(self.models)) or "none"
            raise ConfigError(f"unknown model {name!r} (configured: {known})") from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.models))


def _check_model(model: ModelConfig) -> None:
    where = f"model {model.name!r}"
    if not MODEL_NAME_PATTERN.match(model.name):
        raise ConfigError(f"{where}: name must match {MODEL_NAME_PATTERN.pattern}")
    if model.task not in ("classification", "regression"):
        raise ConfigError(f"{where}: task must be 'classification' or 'regression', not {model.task!r}")
    families = CLASSIFICATION_FAMILIES if model.task == "classification" else REGRESSION_FAMILIES
    unknown = [family for family in model.training.families if family not in families]
    if unknown or not model.training.families:
        raise ConfigError(f"{where}: families must be a non-empty subset of {families}, got {unknown or '[]'}")
    metrics = CLASSIFICATION_METRICS if model.task == "classification" else REGRESSION_METRICS
    gates = model.gates
    slice_metrics = [gate.metric for gate in gates.slices if gate.metric is not None]
    for metric in (gates.primary_metric, *gates.min_metrics, *gates.margins, *slice_metrics):
        if metric not in metrics:
            raise ConfigError(f"{where}: metric {metric!r} is not one of {metrics}")
    _check_evaluation(model, where)
    _check_training(model, where)
    names = [column.name for column in model.contract.columns]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: duplicate column names in the contract")
    fields: dict[str, str] = {}
    for name in names:
        other = fields.setdefault(capture_field(name), name)
        if other != name:
            raise ConfigError(f"{where}: columns {other!r} and {name!r} would share the field "
                              f"{capture_field(name)!r} in captured traffic; rename one")
    if model.contract.target in names:
        raise ConfigError(f"{where}: the target {model.contract.target!r} is also listed as a feature")
    if not 0 < model.training.holdout_fraction < 1:
        raise ConfigError(f"{where}: holdout_fraction must be between 0 and 1")
    if model.training.cv_folds < 2:
        raise ConfigError(f"{where}: cv_folds must be at least 2")
    for column in model.contract.columns:
        if column.type not in COLUMN_TYPES:
            raise ConfigError(f"{where}: column {column.name!r} has unknown type {column.type!r}")
    _check_timestamp(model.contract, where)


def _check_evaluation(model: ModelConfig, where: str) -> None:
    gates = model.gates
    names = {column.name for column in model.contract.columns}
    if any(margin < 0 for margin in (gates.max_regression, *gates.margins.values())):
        raise ConfigError(f"{where}: max_regression and margins must not be negative")
    for gate in gates.slices:
        if gate.column not in names:
            raise ConfigError(f"{where}: slice column {gate.column!r} is not a contract column")
        if gate.tolerance < 0 or gate.bins < 2 or gate.min_rows < 1:
            raise ConfigError(f"{where}: slice {gate.column!r} needs tolerance >= 0, bins >= 2 and min_rows >= 1")
    if gates.bootstrap.samples < 0 or not 0 < gates.bootstrap.confidence < 1:
        raise ConfigError(f"{where}: bootstrap needs samples >= 0 and 0 < confidence < 1")


def _check_training(model: ModelConfig, where: str) -> None:
    tuning, time_column = model.training.tuning, model.training.time_column
    if tuning.trials < 0 or (tuning.timeout_s is not None and tuning.timeout_s <= 0):
        raise ConfigError(f"{where}: tuning needs trials >= 0 and a positive timeout_s")
    if tuning.timeout_s is not None and tuning.timeout_s > MAX_SEARCH_S:
        raise ConfigError(f"{where}: tuning timeout_s {tuning.timeout_s:g} is above {MAX_SEARCH_S:g} s "
                          "(train_model has 900 s on Lambda, and the refit and export follow the search)")
    numeric = {column.name for column in model.contract.columns if not column.is_categorical}
    if time_column is not None and time_column not in numeric:
        raise ConfigError(f"{where}: time_column {time_column!r} must be a numeric contract column")


def _check_timestamp(contract: DataContract, where: str) -> None:
    spec = contract.timestamp
    if spec is None:
        return
    if spec.name in (*contract.feature_names, contract.target):
        raise ConfigError(f"{where}: the timestamp column {spec.name!r} is also a feature or the target")
    for bound in (spec.min, spec.max):
        try:
            None if bound is None else datetime.fromisoformat(bound)
        except ValueError:
            raise ConfigError(f"{where}: timestamp bound {bound!r} is not an ISO 8601 date or time") from None
