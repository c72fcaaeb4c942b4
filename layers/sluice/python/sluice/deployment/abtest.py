"""The end of an A/B test: a decision rule on one metric and a per-variant report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sluice.deployment.signals import VariantStats


@dataclass(frozen=True)
class AbOutcome:
    winner: str  # "candidate" | "live"
    reason: str


def decide_ab(metric: str, margin: float, candidate: VariantStats, live: VariantStats) -> AbOutcome:
    """Non-inferiority: the candidate wins unless it is worse than live by more than ``margin`` on ``metric``.

    Missing data is inconclusive, and an inconclusive test keeps live.
    """
    if metric == "error_rate":
        c, x = candidate.error_rate, live.error_rate
        worse = c - x
        text = f"error rate {c:.2%} vs live {x:.2%}"
    elif metric == "latency_p99":
        if candidate.latency_p99_ms is None or live.latency_p99_ms is None:
            return AbOutcome("live", "inconclusive: no latency p99 for both variants")
        c, x = candidate.latency_p99_ms, live.latency_p99_ms
        worse = c - x
        text = f"p99 {c:.1f} ms vs live {x:.1f} ms"
    elif metric == "live_accuracy":
        if candidate.live_accuracy is None or live.live_accuracy is None:
            return AbOutcome("live", "inconclusive: no live accuracy (feedback) for both variants")
        c, x = candidate.live_accuracy, live.live_accuracy
        worse = x - c
        text = f"live accuracy {c:.3f} vs live {x:.3f}"
    else:
        raise ValueError(f"unknown A/B metric {metric!r}")
    if worse > margin:
        return AbOutcome("live", f"{text}: worse by more than the margin {margin:g}")
    return AbOutcome("candidate", f"{text}: not worse than live by more than {margin:g}")


def ab_report(*, model: str, metric: str, margin: float, candidate_version: int, live_version: int,
              candidate: VariantStats, live: VariantStats, outcome: AbOutcome, window: tuple[str, str],
              split: float) -> dict[str, Any]:
    """The per-variant report stored with the candidate's artifacts and sent with the event."""
    return {
        "model": model, "metric": metric, "margin": margin, "split": split,
        "window": {"start": window[0], "end": window[1]},
        "variants": {
            "live": {"version": live_version, **live.document()},
            "candidate": {"version": candidate_version, **candidate.document()},
        },
        "winner": outcome.winner, "winner_version": candidate_version if outcome.winner == "candidate"
        else live_version, "reason": outcome.reason,
    }
