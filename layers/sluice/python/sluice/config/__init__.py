"""Per-model configuration: data contract, task, candidate families, evaluation gates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
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
        SageMakerTraining,
        SliceGate,
        TimestampSpec,
        TrainingSettings,
        TuningSettings,
    )
    from sluice.config.monitoring import MonitoringSettings

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
