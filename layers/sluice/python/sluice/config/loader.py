"""Read the project configuration (TOML) into typed objects, strictly: unknown keys, wrong types and invalid
values are refused naming the file, the table and the key."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from sluice.config.deployment import parse_deployment
from sluice.config.errors import ConfigError
from sluice.config.model import (
    BATCH_VERSIONS,
    COLUMN_ROLES,
    COLUMN_TYPES,
    DATA_MODES,
    EXTRA_COLUMNS,
    ON_VIOLATION,
    TRAINING_BACKENDS,
    BootstrapSettings,
    ColumnSpec,
    DataContract,
    DataSettings,
    EvaluationGates,
    ModelConfig,
    ProjectConfig,
    SageMakerTraining,
    ServingSettings,
    SliceGate,
    TimestampSpec,
    TrainingSettings,
    TuningSettings,
)
from sluice.config.monitoring import parse_monitoring
from sluice.config.reader import Table, checked
from sluice.config.schedule import schedule_problem
from sluice.config.stack import parse_stack
from sluice.config.stages import parse_stages

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
    root = Table(document, "", source)
    raw_models = root.raw("models")
    if not isinstance(raw_models, dict) or not raw_models:
        raise ConfigError(f"{source}: define at least one [models.<name>] table")
    stack = checked(root, "stack", lambda: parse_stack(root.table("stack")))
    stages = checked(root, "stages", lambda: parse_stages(root.table("stages")))
    root.finish()
    models = {name: _model(name, Table(body, f"models.{name}", source)) for name, body in raw_models.items()}
    return ProjectConfig(models=models, stack=stack, stages=stages)


def _model(name: str, body: Table) -> ModelConfig:
    task = body.string("task", choices=("classification", "regression"))
    description = body.string("description", "")
    contract = _contract(body.table("contract"), task)
    training = _training(body.table("training"))
    gates = _gates(body.table("gates"), task)
    monitoring = checked(body, "monitoring", lambda: parse_monitoring(body.table("monitoring")))
    deployment = checked(body, "deployment", lambda: parse_deployment(body.table("deployment")))
    data = _data(body.table("data"))
    serving_table = body.table("serving")
    serving = ServingSettings(on_violation=serving_table.string("on_violation", "reject", choices=ON_VIOLATION),
                              batch_version=serving_table.string("batch_version", "live", choices=BATCH_VERSIONS),
                              trace=serving_table.boolean("trace", False),
                              max_concurrency=serving_table.integer("max_concurrency", None, minimum=1),
                              batch_split_above_mb=serving_table.number("batch_split_above_mb", 256.0, minimum=0.0,
                                                                        exclusive_minimum=True),
                              batch_part_mb=serving_table.number("batch_part_mb", 64.0, minimum=0.0,
                                                                 exclusive_minimum=True),
                              batch_max_concurrency=serving_table.integer("batch_max_concurrency", 10, minimum=1,
                                                                          maximum=10000))
    serving_table.finish()
    body.finish()
    try:
        return ModelConfig(name=name, task=task, description=description, contract=contract, training=training,
                           gates=gates, monitoring=monitoring, deployment=deployment, data=data, serving=serving)
    except ConfigError as error:
        raise ConfigError(f"{body.source}: {error}") from error


def _contract(body: Table, task: str) -> DataContract:
    default_target_type = "string" if task == "classification" else "float"
    columns = tuple(_column(item) for item in body.tables("columns"))
    contract = DataContract(
        columns=columns,
        target=body.string("target"),
        target_type=body.string("target_type", default_target_type, choices=COLUMN_TYPES),
        target_values=body.scalars("target_values", None),
        positive=_scalar(body, "positive"),
        min_rows=body.integer("min_rows", 50, minimum=1),
        max_rows=body.integer("max_rows", 50_000_000, minimum=1),
        max_null_fraction=body.number("max_null_fraction", 0.0, minimum=0, maximum=1),
        min_class_fraction=body.number("min_class_fraction", 0.0, minimum=0, maximum=1),
        timestamp=_timestamp(body),
        null_tokens=body.strings("null_tokens", ()),
        max_columns=body.integer("max_columns", None, minimum=1),
        extra_columns=body.string("extra_columns", "warn", choices=EXTRA_COLUMNS),
    )
    body.finish()
    if contract.min_rows > contract.max_rows:
        raise body.error(f"min_rows {contract.min_rows} is above max_rows {contract.max_rows}", "min_rows")
    return contract


def _column(body: Table) -> ColumnSpec:
    unique = body.boolean("unique", False)
    spec = ColumnSpec(
        name=body.string("name"),
        type=body.string("type", "float", choices=COLUMN_TYPES),
        nullable=body.boolean("nullable", False),
        min=body.number("min", None),
        max=body.number("max", None),
        allowed=body.scalars("allowed", None),
        unique=unique,
        role=body.string("role", "id" if unique else "feature", choices=COLUMN_ROLES),
        max_length=body.integer("max_length", None, minimum=1),
        trim=body.boolean("trim", False),
    )
    body.finish()
    return spec


def _timestamp(contract: Table) -> TimestampSpec | None:
    """``timestamp = "name"`` or ``[...contract.timestamp]`` with name, nullable, min and max."""
    value = contract.raw("timestamp")
    if value is None or isinstance(value, str):
        return None if value is None else TimestampSpec(name=value)
    body = contract.table("timestamp")
    spec = TimestampSpec(name=body.string("name"), nullable=body.boolean("nullable", False),
                         min=body.string("min", None), max=body.string("max", None))
    body.finish()
    return spec


def _training(body: Table) -> TrainingSettings:
    schedule = body.string("retrain_schedule", None)
    problem = None if schedule is None else schedule_problem(schedule)
    if problem:
        raise body.error(f"{schedule!r}: {problem}", "retrain_schedule")
    settings = TrainingSettings(
        families=body.strings("families"),
        cv_folds=body.integer("cv_folds", 5, minimum=2, maximum=20),
        holdout_fraction=body.number("holdout_fraction", 0.2, minimum=0, exclusive_minimum=True, maximum=0.9),
        seed=body.integer("seed", 42, minimum=0),
        retrain_schedule=schedule,
        tuning=_tuning(body.table("tuning")),
        time_column=body.string("time_column", None),
        refit_on_all=body.boolean("refit_on_all", False),
        backend=body.string("backend", "lambda", choices=TRAINING_BACKENDS),
        sagemaker=_sagemaker(body.table("sagemaker")),
    )
    body.finish()
    return settings


def _sagemaker(body: Table) -> SageMakerTraining:
    settings = SageMakerTraining(
        instance_type=body.string("instance_type", "ml.m5.2xlarge"),
        spot=body.boolean("spot", False),
        max_run_s=body.integer("max_run_s", 3600, minimum=60, maximum=28 * 24 * 3600),  # SageMaker's 28 days
        volume_gb=body.integer("volume_gb", 30, minimum=1, maximum=16384),
        auto_above_cells=body.integer("auto_above_cells", None, minimum=1),
    )
    body.finish()
    if not settings.instance_type.startswith("ml."):
        raise body.error(f"must be a SageMaker instance type (ml.*), got {settings.instance_type!r}", "instance_type")
    return settings


def _tuning(body: Table) -> TuningSettings:
    settings = TuningSettings(trials=body.integer("trials", 0, minimum=0),
                              timeout_s=body.number("timeout_s", None, minimum=0, exclusive_minimum=True),
                              pruning=body.boolean("pruning", True))
    body.finish()
    return settings


def _gates(body: Table, task: str) -> EvaluationGates:
    gates = EvaluationGates(
        primary_metric=body.string("primary_metric", "roc_auc" if task == "classification" else "rmse"),
        min_metrics=body.numbers("min_metrics"),
        max_regression=body.number("max_regression", 0.0, minimum=0),
        margins=body.numbers("margins"),
        slices=tuple(_slice(item) for item in body.tables("slices")),
        bootstrap=_bootstrap(body.table("bootstrap")),
    )
    body.finish()
    return gates


def _slice(body: Table) -> SliceGate:
    gate = SliceGate(column=body.string("column"), tolerance=body.number("tolerance", 0.0, minimum=0),
                     metric=body.string("metric", None), bins=body.integer("bins", 4, minimum=2),
                     min_rows=body.integer("min_rows", 10, minimum=1))
    body.finish()
    return gate


def _bootstrap(body: Table) -> BootstrapSettings:
    settings = BootstrapSettings(samples=body.integer("samples", 200, minimum=0),
                                 confidence=body.number("confidence", 0.95, minimum=0, exclusive_minimum=True,
                                                        maximum=0.999))
    body.finish()
    return settings


def _data(body: Table) -> DataSettings:
    settings = DataSettings(mode=body.string("mode", "snapshot", choices=DATA_MODES),
                            window_drops=body.integer("window_drops", None, minimum=1),
                            window_days=body.number("window_days", None, minimum=0, exclusive_minimum=True),
                            learn_from_feedback=body.boolean("learn_from_feedback", False),
                            processing_job_above_mb=body.number("processing_job_above_mb", None, minimum=0,
                                                                exclusive_minimum=True))
    body.finish()
    return settings


def _scalar(body: Table, key: str) -> Any:
    value = body.raw(key)
    if value is not None and not isinstance(value, str | int | float | bool):
        raise body.error(f"must be a string, number or boolean, got {value!r}", key)
    return value
