"""The training's wall-clock budget: the search stops where the final refit of the best family still fits.

Each fold fit is timed per row; a fold is started only if it and the refit of the best family so far (estimated
from the same per-row cost on all training rows) end inside the limit. Until one trial is complete nothing is
cut: a training without a finished candidate has nothing to refit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TrainingBudget:
    """``limit_s`` seconds for search and refit together, read on ``clock``."""

    limit_s: float
    rows: int
    """All training rows: the refit fits on them."""
    clock: Callable[[], float] = time.perf_counter
    started: float = field(init=False)
    _seconds_per_row: dict[str, float] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def record_fit(self, family: str, rows: int, seconds: float) -> None:
        """One fold of ``family`` fitted ``rows`` rows in ``seconds`` (the slowest per-row cost is kept)."""
        per_row = seconds / max(rows, 1)
        self._seconds_per_row[family] = max(per_row, self._seconds_per_row.get(family, 0.0))

    def refit_seconds(self, family: str) -> float:
        """The expected time of fitting ``family`` on every training row."""
        return self._seconds_per_row.get(family, 0.0) * self.rows

    def elapsed(self) -> float:
        return self.clock() - self.started

    def allows_fit(self, family: str, rows: int, best_family: str | None) -> bool:
        """Whether a fold of ``family`` on ``rows`` rows, then the refit of the best family, end within the limit.

        Always true while no trial is complete (``best_family`` is None).
        """
        if best_family is None:
            return True
        fold = self._seconds_per_row.get(family, 0.0) * rows
        return self.elapsed() + fold + self.refit_seconds(best_family) <= self.limit_s

    def exhausted(self, best_family: str | None) -> bool:
        """No time is left beyond the refit of the best family."""
        return best_family is not None and self.elapsed() + self.refit_seconds(best_family) >= self.limit_s
