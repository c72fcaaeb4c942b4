"""Typed, immutable view of the project configuration (one entry per model)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from sluice.config.errors import ConfigError

Task = Literal["classification", "regression"]
ColumnType = Literal["float", "int", "string", "bool"]

MODEL_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
COLUMN_TYPES: tuple[ColumnType, ...] = ("float", "int", "string", "bool")
CLASSIFICATION_FAMILIES = ("logistic_regression", "random_forest", "hist_gradient_boosting")
REGRESSION_FAMILIES = ("ridge", "random_forest", "hist_gradient_boosting")
CLASSIFICATION_METRICS = ("roc_auc", "accuracy", "f1", "log_loss")
REGRESSION_METRICS = ("rmse", "mae", "r2")
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})


@dataclass(frozen=True)
class ColumnSpec:
    """One feature column of the data contract."""

    name: str
    type: ColumnType
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None

    @property
    def is_categorical(self) -> bool:
        return self.type in ("string", "bool")


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

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> ColumnSpec:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


@dataclass(frozen=True)
class TrainingSettings:
    """How candidates are searched and compared."""

    families: tuple[str, ...]
    cv_folds: int = 5
    holdout_fraction: float = 0.2
    seed: int = 42
    retrain_schedule: str | None = None


@dataclass(frozen=True)
class EvaluationGates:
    """When a candidate may replace the live model."""

    primary_metric: str
    min_metrics: dict[str, float] = field(default_factory=dict)
    max_regression: float = 0.0


@dataclass(frozen=True)
class ModelConfig:
    """Everything sluice needs to know about one model."""

    name: str
    task: Task
    contract: DataContract
    training: TrainingSettings
    gates: EvaluationGates
    description: str = ""

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
    for metric in (model.gates.primary_metric, *model.gates.min_metrics):
        if metric not in metrics:
            raise ConfigError(f"{where}: metric {metric!r} is not one of {metrics}")
    names = [column.name for column in model.contract.columns]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: duplicate column names in the contract")
    if model.contract.target in names:
        raise ConfigError(f"{where}: the target {model.contract.target!r} is also listed as a feature")
    if not 0 < model.training.holdout_fraction < 1:
        raise ConfigError(f"{where}: holdout_fraction must be between 0 and 1")
    if model.training.cv_folds < 2:
        raise ConfigError(f"{where}: cv_folds must be at least 2")
    for column in model.contract.columns:
        if column.type not in COLUMN_TYPES:
            raise ConfigError(f"{where}: column {column.name!r} has unknown type {column.type!r}")
