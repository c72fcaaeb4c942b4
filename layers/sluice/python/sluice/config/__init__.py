"""Per-model configuration: data contract, task, candidate families, evaluation gates."""

from __future__ import annotations

from sluice.config.deployment import DeploymentSettings, ReleaseChecks
from sluice.config.errors import ConfigError
from sluice.config.loader import load_config, load_config_text
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
from sluice.config.monitoring import MonitoringSettings

__all__ = [
    "BootstrapSettings",
    "ColumnSpec",
    "ConfigError",
    "DataContract",
    "DeploymentSettings",
    "EvaluationGates",
    "ModelConfig",
    "MonitoringSettings",
    "ProjectConfig",
    "ReleaseChecks",
    "SliceGate",
    "TimestampSpec",
    "TrainingSettings",
    "TuningSettings",
    "load_config",
    "load_config_text",
]
