"""Per-model monitoring settings: the ``[models.<name>.monitoring]`` table (capture, drift, retraining)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sluice.config.errors import ConfigError

NUMERIC_METHODS = ("psi", "wasserstein", "ks")
CATEGORICAL_METHODS = ("chisquare", "jensenshannon", "psi")
P_VALUE_METHODS = frozenset({"ks", "chisquare"})
"""Methods whose statistic is a p-value: drift when it is *below* the threshold (distances: at or above)."""
DEFAULT_THRESHOLDS: dict[str, float] = {
    "psi": 0.1, "wasserstein": 0.1, "ks": 0.05, "chisquare": 0.05, "jensenshannon": 0.1,
}


@dataclass(frozen=True)
class MonitoringSettings:
    """How a model's live traffic is captured, checked for drift, and turned into retraining."""

    capture_rate: float = 1.0
    """Fraction of prediction requests recorded (0 turns capture off)."""
    drift_schedule: str | None = None
    """EventBridge schedule expression of detect_drift (none: drift is only checked on demand)."""
    window_hours: float = 24.0
    """Captured traffic of the last ``window_hours`` is compared with the training baseline."""
    min_rows: int = 50
    """Fewer captured rows of the live version than this: no verdict (too little evidence)."""
    numeric_method: str = "psi"
    categorical_method: str = "jensenshannon"
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    drift_share: float = 0.5
    """Drift is detected when at least this share of the features drifted, or the predictions did."""
    feedback_lookback_days: int = 7
    """Feedback labels are joined with the captures of this many days."""
    retrain_on_drift: bool = True
    retrain_cooldown_minutes: float = 360.0
    """After a triggered retrain, further drift or quality triggers are ignored for this long."""

    def threshold(self, method: str) -> float:
        return self.thresholds[method]

    def drifted(self, method: str, value: float) -> bool:
        """The verdict of one statistic against its threshold."""
        if method in P_VALUE_METHODS:
            return value < self.thresholds[method]
        return value >= self.thresholds[method]


def parse_monitoring(body: Any, where: str) -> MonitoringSettings:
    """Read and check a ``monitoring`` table."""
    if not isinstance(body, dict) or not isinstance(body.get("thresholds", {}), dict):
        raise ConfigError(f"{where}: expected a table (with an optional thresholds table)")
    unknown = sorted(set(body.get("thresholds", {})) - set(DEFAULT_THRESHOLDS))
    if unknown:
        raise ConfigError(f"{where}: unknown drift methods in thresholds {unknown}; known {sorted(DEFAULT_THRESHOLDS)}")
    schedule = body.get("drift_schedule")
    settings = MonitoringSettings(
        capture_rate=float(body.get("capture_rate", 1.0)),
        drift_schedule=None if schedule is None else str(schedule),
        window_hours=float(body.get("window_hours", 24.0)),
        min_rows=int(body.get("min_rows", 50)),
        numeric_method=str(body.get("numeric_method", "psi")),
        categorical_method=str(body.get("categorical_method", "jensenshannon")),
        thresholds={**DEFAULT_THRESHOLDS, **{str(k): float(v) for k, v in body.get("thresholds", {}).items()}},
        drift_share=float(body.get("drift_share", 0.5)),
        feedback_lookback_days=int(body.get("feedback_lookback_days", 7)),
        retrain_on_drift=bool(body.get("retrain_on_drift", True)),
        retrain_cooldown_minutes=float(body.get("retrain_cooldown_minutes", 360.0)),
    )
    if not 0.0 <= settings.capture_rate <= 1.0:
        raise ConfigError(f"{where}: capture_rate must be between 0 and 1")
    if settings.numeric_method not in NUMERIC_METHODS:
        raise ConfigError(f"{where}: numeric_method must be one of {NUMERIC_METHODS}")
    if settings.categorical_method not in CATEGORICAL_METHODS:
        raise ConfigError(f"{where}: categorical_method must be one of {CATEGORICAL_METHODS}")
    if settings.window_hours <= 0 or settings.min_rows < 1 or settings.retrain_cooldown_minutes < 0 \
            or settings.feedback_lookback_days < 1:
        raise ConfigError(f"{where}: window_hours > 0, min_rows >= 1, feedback_lookback_days >= 1 and "
                          "retrain_cooldown_minutes >= 0 are required")
    if not 0.0 < settings.drift_share <= 1.0:
        raise ConfigError(f"{where}: drift_share must be in (0, 1]")
    return settings
