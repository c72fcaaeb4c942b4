"""Read the project configuration (TOML) into typed objects."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from sluice.config.deployment import parse_deployment
from sluice.config.errors import ConfigError
from sluice.config.model import (
    BootstrapSettings,
    ColumnSpec,
    DataContract,
    EvaluationGates,
    ModelConfig,
    ProjectConfig,
    SliceGate,
    TimestampSpec,
    TrainingSettings,
    TuningSettings,
)
from sluice.config.monitoring import parse_monitoring

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
            monitoring=parse_monitoring(body.get("monitoring", {}), f"{where}.monitoring"),
            deployment=parse_deployment(_table(body.get("deployment", {}), f"{where}.deployment"),
                                        f"{where}.deployment"),
            contract=DataContract(
                columns=tuple(_column(item, where) for item in contract.get("columns", [])),
                target=_required(contract, "target", where),
                target_type=contract.get("target_type", "string" if task == "classification" else "float"),
                target_values=_optional_tuple(contract.get("target_values")),
                min_rows=int(contract.get("min_rows", 50)),
                max_rows=int(contract.get("max_rows", 50_000_000)),
                max_null_fraction=float(contract.get("max_null_fraction", 0.0)),
                min_class_fraction=float(contract.get("min_class_fraction", 0.0)),
                timestamp=_timestamp(contract.get("timestamp"), where),
            ),
            training=TrainingSettings(
                families=tuple(training.get("families", ())),
                cv_folds=int(training.get("cv_folds", 5)),
                holdout_fraction=float(training.get("holdout_fraction", 0.2)),
                seed=int(training.get("seed", 42)),
                retrain_schedule=training.get("retrain_schedule"),
                tuning=_tuning(_table(training.get("tuning", {}), f"{where}.training.tuning")),
                time_column=_optional_str(training.get("time_column")),
            ),
            gates=EvaluationGates(
                primary_metric=str(gates.get("primary_metric", default_metric)),
                min_metrics={str(k): float(v) for k, v in _table(gates.get("min_metrics", {}), where).items()},
                max_regression=float(gates.get("max_regression", 0.0)),
                margins={str(k): float(v) for k, v in _table(gates.get("margins", {}), where).items()},
                slices=tuple(_slice(item, where) for item in gates.get("slices", [])),
                bootstrap=_bootstrap(_table(gates.get("bootstrap", {}), f"{where}.gates.bootstrap")),
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
        unique=bool(body.get("unique", False)),
    )


def _timestamp(value: Any, where: str) -> TimestampSpec | None:
    """``timestamp = "name"`` or ``[...contract.timestamp]`` with name, nullable, min and max."""
    if value is None or isinstance(value, str):
        return None if value is None else TimestampSpec(name=value)
    body = _table(value, f"{where}.contract.timestamp")
    return TimestampSpec(name=_required(body, "name", f"{where}.contract.timestamp"),
                         nullable=bool(body.get("nullable", False)), min=_optional_str(body.get("min")),
                         max=_optional_str(body.get("max")))


def _tuning(body: dict[str, Any]) -> TuningSettings:
    timeout = body.get("timeout_s")
    return TuningSettings(trials=int(body.get("trials", 0)), timeout_s=None if timeout is None else float(timeout),
                          pruning=bool(body.get("pruning", True)))


def _slice(item: Any, where: str) -> SliceGate:
    body = _table(item, f"{where}.gates.slices[]")
    return SliceGate(column=_required(body, "column", f"{where}.gates.slices[]"),
                     tolerance=float(body.get("tolerance", 0.0)), metric=_optional_str(body.get("metric")),
                     bins=int(body.get("bins", 4)), min_rows=int(body.get("min_rows", 10)))


def _bootstrap(body: dict[str, Any]) -> BootstrapSettings:
    return BootstrapSettings(samples=int(body.get("samples", 200)), confidence=float(body.get("confidence", 0.95)))


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


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
