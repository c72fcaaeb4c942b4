"""Per-model configuration: data contract, task, candidate families, evaluation gates."""

from __future__ import annotations

from sluice.config.errors import ConfigError
from sluice.config.loader import load_config, load_config_text
from sluice.config.model import (
    ColumnSpec,
    DataContract,
    EvaluationGates,
    ModelConfig,
    ProjectConfig,
    TrainingSettings,
)

__all__ = [
    "ColumnSpec",
    "ConfigError",
    "DataContract",
    "EvaluationGates",
    "ModelConfig",
    "ProjectConfig",
    "TrainingSettings",
    "load_config",
    "load_config_text",
]
