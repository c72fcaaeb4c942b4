"""Per-model monitoring settings: the ``[models.<name>.monitoring]`` table (capture, drift, retraining)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sluice.config.reader import Table
from sluice.config.schedule import schedule_problem

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


def parse_monitoring(body: Table) -> MonitoringSettings:
    """Read ``[models.<name>.monitoring]`` strictly (unknown keys and wrong types are refused)."""
    thresholds = body.numbers("thresholds")
    unknown = sorted(set(thresholds) - set(DEFAULT_THRESHOLDS))
    if unknown:
        raise body.error(f"unknown drift methods {unknown}; known {sorted(DEFAULT_THRESHOLDS)}", "thresholds")
    schedule = body.string("drift_schedule", None)
    problem = None if schedule is None else schedule_problem(schedule)
    if problem:
        raise body.error(f"{schedule!r}: {problem}", "drift_schedule")
    settings = MonitoringSettings(
        capture_rate=body.number("capture_rate", 1.0, minimum=0, maximum=1),
        drift_schedule=schedule,
        window_hours=body.number("window_hours", 24.0, minimum=0, exclusive_minimum=True),
        min_rows=body.integer("min_rows", 50, minimum=1),
        numeric_method=body.string("numeric_method", "psi", choices=NUMERIC_METHODS),
        categorical_method=body.string("categorical_method", "jensenshannon", choices=CATEGORICAL_METHODS),
        thresholds={**DEFAULT_THRESHOLDS, **thresholds},
        drift_share=body.number("drift_share", 0.5, minimum=0, exclusive_minimum=True, maximum=1),
        feedback_lookback_days=body.integer("feedback_lookback_days", 7, minimum=1),
        retrain_on_drift=body.boolean("retrain_on_drift", True),
        retrain_cooldown_minutes=body.number("retrain_cooldown_minutes", 360.0, minimum=0),
    )
    body.finish()
    return settings
