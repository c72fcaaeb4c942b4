"""Typed, immutable view of the project configuration (one entry per model)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sluice.config.deployment import DeploymentSettings
from sluice.config.errors import ConfigError
from sluice.config.layout import layout_problem
from sluice.config.monitoring import MonitoringSettings
from sluice.config.stack import StackSettings
from sluice.config.stages import StageSettings
from sluice.naming import LONGEST_STAGE_PREFIX, ResourceNames, capture_field

Task = Literal["classification", "regression"]
ColumnType = Literal["float", "int", "string", "bool"]
ColumnRole = Literal["feature", "id", "ignore", "timestamp"]
ExtraColumns = Literal["ignore", "warn", "reject"]
DataMode = Literal["snapshot", "append"]
OnViolation = Literal["reject", "flag"]

MODEL_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
COLUMN_TYPES: tuple[ColumnType, ...] = ("float", "int", "string", "bool")
COLUMN_ROLES: tuple[ColumnRole, ...] = ("feature", "id", "ignore", "timestamp")
EXTRA_COLUMNS: tuple[ExtraColumns, ...] = ("ignore", "warn", "reject")
DATA_MODES: tuple[DataMode, ...] = ("snapshot", "append")
ON_VIOLATION: tuple[OnViolation, ...] = ("reject", "flag")
TrainingBackend = Literal["lambda", "sagemaker", "auto"]
TRAINING_BACKENDS: tuple[TrainingBackend, ...] = ("lambda", "sagemaker", "auto")
BatchVersion = Literal["live", "release"]
BATCH_VERSIONS: tuple[BatchVersion, ...] = ("live", "release")
CLASSIFICATION_FAMILIES = ("logistic_regression", "random_forest", "hist_gradient_boosting")
REGRESSION_FAMILIES = ("ridge", "random_forest", "hist_gradient_boosting")
CLASSIFICATION_METRICS = ("roc_auc", "pr_auc", "accuracy", "f1", "log_loss", "brier", "ece")
REGRESSION_METRICS = ("rmse", "mae", "r2")
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "rmse", "mae"})


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the data contract.

    ``role``: ``feature`` (trained on and served), ``id`` (validated, kept in captures and reports, never trained
    on; the default of a ``unique`` column), ``ignore`` (validated, then dropped) or ``timestamp`` (validated,
    kept, never trained on). ``trim``: strip surrounding whitespace from text values (off: values are kept as
    given). ``max_length``: the longest text value allowed, in characters.
    """

    name: str
    type: ColumnType
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    unique: bool = False
    role: ColumnRole = None  # type: ignore[assignment]  # resolved in __post_init__: "id" if unique else "feature"
    max_length: int | None = None
    trim: bool = False

    def __post_init__(self) -> None:
        if self.role is None:
            object.__setattr__(self, "role", "id" if self.unique else "feature")

    @property
    def is_categorical(self) -> bool:
        return self.type in ("string", "bool")

    @property
    def is_feature(self) -> bool:
        return self.role == "feature"


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
    positive: Any = None
    """The positive class of a binary task (scores, pr_auc, f1 and the drift of predictions are about it)."""
    null_tokens: tuple[str, ...] = ()
    """Extra spellings of a missing value, for every column (text columns included; "" is always missing)."""
    max_columns: int | None = None
    extra_columns: ExtraColumns = "warn"
    """What a column outside the contract does to a file: nothing, a warning in the report, or a rejection."""

    @property
    def features(self) -> tuple[ColumnSpec, ...]:
        """The columns a model learns from and is served with (role ``feature``), in contract order."""
        return tuple(column for column in self.columns if column.is_feature)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.features)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Every contract column, whatever its role (the target and the timestamp spec excluded)."""
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
class SageMakerTraining:
    """The SageMaker training job of a model whose training runs there (``[models.<m>.training.sagemaker]``)."""

    instance_type: str = "ml.m5.2xlarge"
    spot: bool = False
    """Managed spot training (up to ~70 % cheaper; may wait up to ``max_run_s`` more for capacity)."""
    max_run_s: int = 3600
    volume_gb: int = 30
    auto_above_cells: int | None = None
    """``backend = "auto"``: train on SageMaker above this many rows x columns; none: what train_model's memory
    allows by the load estimate (``sluice.training.backend``)."""


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
    refit_on_all: bool = False
    """After the gate passes, refit the shipped model on train + holdout (recorded in the card)."""
    backend: TrainingBackend = "lambda"
    """Where training runs: in train_model (Lambda), as a SageMaker training job, or chosen per dataset size."""
    sagemaker: SageMakerTraining = field(default_factory=SageMakerTraining)


@dataclass(frozen=True)
class DataSettings:
    """Which accepted data a model trains on.

    ``snapshot``: each drop is the whole dataset (training uses the latest). ``append``: each drop adds rows;
    training uses the accepted versions inside the window (the last ``window_drops`` drops and/or those of the
    last ``window_days`` days; no window: all of them). ``learn_from_feedback``: labelled traffic (captured
    requests joined with their feedback) becomes an accepted dataset of the model.
    """

    mode: DataMode = "snapshot"
    window_drops: int | None = None
    window_days: float | None = None
    learn_from_feedback: bool = False
    processing_job_above_mb: float | None = None
    """A drop larger than this (its S3 size) is validated by a SageMaker processing job instead of inside
    validate_dataset (same validator, same outcome); None: every drop is validated in the Lambda."""

    def validated_by_job(self, size_bytes: int) -> bool:
        """Whether a drop of ``size_bytes`` goes to a processing job."""
        limit = self.processing_job_above_mb
        return limit is not None and size_bytes > limit * 1024 * 1024


@dataclass(frozen=True)
class ServingSettings:
    """What the endpoint does with a request that breaks the data contract: refuse it (400) or answer it with
    the violations listed in the response, the capture and a metric."""

    on_violation: OnViolation = "reject"
    batch_version: BatchVersion = "live"
    """Which version scores files dropped under score/<model>/ without a version in their key: ``live`` (the
    registry's live version; during a release, the one being replaced) or ``release`` (the version a release in
    progress rolls out, else live)."""
    trace: bool = False
    """Trace predictions with X-Ray (active tracing on the model's predict function and the X-Ray grant): off by
    default, since every traced request costs a segment and the endpoint is the hot path."""
    max_concurrency: int | None = None
    """The most requests the predict function serves at once (Lambda reserved concurrency: a cap, reserved out
    of the account's quota); None: no cap and nothing reserved (works at the default quota of 10)."""
    batch_split_above_mb: float = 256.0
    """A file to score larger than this (uncompressed CSV/TSV/JSON Lines, or Parquet) is split into parts scored
    in parallel by the scoring state machine's Distributed Map; smaller ones (and gzip files) score in one Lambda."""
    batch_part_mb: float = 64.0
    """The size of one part (bytes of the file; Parquet: whole row groups adding up to about this much)."""
    batch_max_concurrency: int = 10
    """The most parts scored at once (the Distributed Map's MaxConcurrency for this model's files)."""


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
    data: DataSettings = field(default_factory=DataSettings)
    serving: ServingSettings = field(default_factory=ServingSettings)

    @property
    def positive_class(self) -> str | None:
        """The positive class of a binary classification as a label (text), or None."""
        positive = self.contract.positive
        if positive is None:
            return None
        return ("true" if positive else "false") if isinstance(positive, bool) else str(positive)

    def __post_init__(self) -> None:
        _check_model(self)


@dataclass(frozen=True)
class ProjectConfig:
    """All models of one deployment."""

    models: dict[str, ModelConfig]
    stack: StackSettings = field(default_factory=StackSettings)
    stages: dict[str, StageSettings] = field(default_factory=dict)
    """``[stages.<name>]``: per-stage switches (a stage not listed trains on its own drops)."""

    def __post_init__(self) -> None:
        problem = layout_problem(self.models)
        if problem:
            raise ConfigError(f"cannot deploy: {problem}")

    def model(self, name: str) -> ModelConfig:
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(sorted(self.models)) or "none"
            raise ConfigError(f"unknown model {name!r} (configured: {known})") from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.models))

    def stage(self, name: str) -> StageSettings:
        """The switches of the stage called ``name`` (``sluice.naming.stage_of``); the defaults if unlisted."""
        return self.stages.get(name, StageSettings())

    def for_stage(self, name: str) -> ProjectConfig:
        """The configuration as the stage ``name`` deploys it: in a stage that does not train, no model has a
        retrain schedule (so neither CDK nor the local stack creates its rule)."""
        if self.stage(name).trains:
            return self
        models = {key: replace(model, training=replace(model.training, retrain_schedule=None))
                  for key, model in self.models.items()}
        return replace(self, models=models)


def _check_model(model: ModelConfig) -> None:
    where = f"model {model.name!r}"
    if not MODEL_NAME_PATTERN.match(model.name):
        raise ConfigError(f"{where}: name must match {MODEL_NAME_PATTERN.pattern}")
    too_long = ResourceNames(LONGEST_STAGE_PREFIX).name_too_long(model.name)
    if too_long:
        raise ConfigError(f"{where}: cannot deploy: {too_long}")
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
        _check_column(column, where)
    if not model.contract.features:
        raise ConfigError(f"{where}: the contract needs at least one column with role 'feature'")
    _check_timestamp(model.contract, where)
    _check_target(model, where)
    _check_data(model, where)


def _check_column(column: ColumnSpec, where: str) -> None:
    at = f"{where}: column {column.name!r}"
    if column.role not in COLUMN_ROLES:
        raise ConfigError(f"{at}: role must be one of {COLUMN_ROLES}, not {column.role!r}")
    if (column.min is not None or column.max is not None) and column.type not in ("float", "int"):
        raise ConfigError(f"{at}: min and max apply to float and int columns, not {column.type}")
    if column.min is not None and column.max is not None and column.min > column.max:
        raise ConfigError(f"{at}: min {column.min:g} is above max {column.max:g}")
    if column.max_length is not None and (column.type != "string" or column.max_length < 1):
        raise ConfigError(f"{at}: max_length applies to string columns and must be at least 1")
    if column.trim and column.type != "string":
        raise ConfigError(f"{at}: trim applies to string columns (numbers and booleans are always read trimmed)")
    if column.allowed is not None and not column.allowed:
        raise ConfigError(f"{at}: allowed must list at least one value")


def _check_target(model: ModelConfig, where: str) -> None:
    contract = model.contract
    if model.task == "regression":
        if contract.target_values is not None or contract.positive is not None:
            raise ConfigError(f"{where}: target_values and positive are for classification; "
                              f"this model's task is regression")
        if contract.target_type not in ("float", "int"):
            raise ConfigError(f"{where}: a regression target must have target_type 'float' or 'int', not "
                              f"{contract.target_type!r} (is the task 'classification'?)")
        return
    values = contract.target_values
    if values is not None and len(set(values)) != len(values):
        raise ConfigError(f"{where}: target_values must be distinct, got {list(values)}")
    if values is not None and len(values) < 2:
        raise ConfigError(f"{where}: target_values must list at least two classes")
    if contract.positive is not None and values is not None and contract.positive not in values:
        raise ConfigError(f"{where}: positive {contract.positive!r} is not one of target_values {list(values)}")
    if values is not None and len(values) == 2 and contract.positive is None:
        raise ConfigError(f"{where}: a binary target needs an explicit positive class: add "
                          f"positive = {values[0]!r} (or {values[1]!r}) to the contract")


def _check_data(model: ModelConfig, where: str) -> None:
    data = model.data
    if data.mode not in DATA_MODES:
        raise ConfigError(f"{where}: data mode must be one of {DATA_MODES}, not {data.mode!r}")
    if data.mode == "snapshot" and (data.window_drops is not None or data.window_days is not None):
        raise ConfigError(f"{where}: window_drops and window_days apply to data mode 'append'")
    if model.serving.on_violation not in ON_VIOLATION:
        raise ConfigError(f"{where}: serving on_violation must be one of {ON_VIOLATION}")
    if model.serving.batch_part_mb > model.serving.batch_split_above_mb:
        raise ConfigError(f"{where}: serving batch_part_mb ({model.serving.batch_part_mb:g}) must not exceed "
                          f"batch_split_above_mb ({model.serving.batch_split_above_mb:g})")
    if model.contract.extra_columns not in EXTRA_COLUMNS:
        raise ConfigError(f"{where}: extra_columns must be one of {EXTRA_COLUMNS}")


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
