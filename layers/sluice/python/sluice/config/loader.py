"""Read the project configuration (TOML) into typed objects."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from sluice.config.errors import ConfigError
from sluice.config.model import (
    ColumnSpec,
    DataContract,
    EvaluationGates,
    ModelConfig,
    ProjectConfig,
    TrainingSettings,
)

CONFIG_ENV_VAR = "SLUICE_CONFIG"
DEFAULT_CONFIG_NAME = "sluice.toml"


def load_config(path: str | Path | None = None) -> ProjectConfig:
    """Load the configuration from ``path``, ``$SLUICE_CONFIG`` or ``./sluice.toml``."""
    resolved = Path(path or os.environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_NAME)
    try:
        text = resolved.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read configuration {resolved}: {error.strerror}") from error
    return load_config_text(text, source=str(resolved))


def load_config_text(text: str, *, source: str = "<text>") -> ProjectConfig:
    """Parse configuration TOML text."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: invalid TOML: {error}") from error
    raw_models = document.get("models")
    if not isinstance(raw_models, dict) or not raw_models:
        raise ConfigError(f"{source}: define at least one [models.<name>] table")
    models = {name: _model(name, _table(body, f"models.{name}")) for name, body in raw_models.items()}
    return ProjectConfig(models=models)


def _model(name: str, body: dict[str, Any]) -> ModelConfig:
    where = f"models.{name}"
    contract = _table(body.get("contract"), f"{where}.contract")
    training = _table(body.get("training", {}), f"{where}.training")
    gates = _table(body.get("gates", {}), f"{where}.gates")
    task = body.get("task")
    default_metric = "roc_auc" if task == "classification" else "rmse"
    try:
        return ModelConfig(
            name=name,
            task=task,  # type: ignore[arg-type]  # checked in ModelConfig
            description=str(body.get("description", "")),
            contract=DataContract(
                columns=tuple(_column(item, where) for item in contract.get("columns", [])),
                target=_required(contract, "target", where),
                target_type=contract.get("target_type", "string" if task == "classification" else "float"),
                target_values=_optional_tuple(contract.get("target_values")),
                min_rows=int(contract.get("min_rows", 50)),
                max_rows=int(contract.get("max_rows", 50_000_000)),
                max_null_fraction=float(contract.get("max_null_fraction", 0.0)),
                min_class_fraction=float(contract.get("min_class_fraction", 0.0)),
            ),
            training=TrainingSettings(
                families=tuple(training.get("families", ())),
                cv_folds=int(training.get("cv_folds", 5)),
                holdout_fraction=float(training.get("holdout_fraction", 0.2)),
                seed=int(training.get("seed", 42)),
                retrain_schedule=training.get("retrain_schedule"),
            ),
            gates=EvaluationGates(
                primary_metric=str(gates.get("primary_metric", default_metric)),
                min_metrics={str(k): float(v) for k, v in _table(gates.get("min_metrics", {}), where).items()},
                max_regression=float(gates.get("max_regression", 0.0)),
            ),
        )
    except (TypeError, ValueError) as error:
        if isinstance(error, ConfigError):
            raise
        raise ConfigError(f"{where}: {error}") from error


def _column(item: Any, where: str) -> ColumnSpec:
    body = _table(item, f"{where}.contract.columns[]")
    return ColumnSpec(
        name=_required(body, "name", where),
        type=body.get("type", "float"),
        nullable=bool(body.get("nullable", False)),
        min=_optional_float(body.get("min")),
        max=_optional_float(body.get("max")),
        allowed=_optional_tuple(body.get("allowed")),
    )


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table")
    return value


def _required(body: dict[str, Any], key: str, where: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: {key!r} is required")
    return value


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _optional_tuple(value: Any) -> tuple[Any, ...] | None:
    return None if value is None else tuple(value)
