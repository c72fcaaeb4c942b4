"""The bake check: is the candidate worse than live on errors, latency p99 or prediction distribution?"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sluice.config import ReleaseChecks
from sluice.deployment.signals import VariantStats


class Health(StrEnum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Verdict:
    health: Health
    reasons: tuple[str, ...]

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)


def judge(candidate: VariantStats, live: VariantStats, checks: ReleaseChecks, *, relative_scores: bool,
          shadow: bool = False) -> Verdict:
    """Compare a candidate with live over the same window (shadow: the candidate scored live's requests)."""
    if candidate.requests < checks.min_requests:
        return Verdict(Health.INCONCLUSIVE, (
            f"only {candidate.requests:.0f} of the {checks.min_requests} requests needed reached the candidate",))
    failures: list[str] = []
    notes: list[str] = []
    increase = candidate.error_rate - live.error_rate
    errors = f"error rate {candidate.error_rate:.2%} vs live {live.error_rate:.2%}"
    if increase > checks.max_error_rate_increase:
        failures.append(f"{errors} (more than +{checks.max_error_rate_increase:.2%})")
    else:
        notes.append(errors)
    if not shadow and candidate.latency_p99_ms is not None and live.latency_p99_ms is not None:
        latency = f"p99 {candidate.latency_p99_ms:.1f} ms vs live {live.latency_p99_ms:.1f} ms"
        slower = candidate.latency_p99_ms - live.latency_p99_ms
        if (candidate.latency_p99_ms > checks.max_latency_p99_ratio * live.latency_p99_ms
                and slower > checks.latency_slack_ms):
            failures.append(f"{latency} (more than {checks.max_latency_p99_ratio:g} times and "
                            f"+{checks.latency_slack_ms:g} ms)")
        else:
            notes.append(latency)
    if candidate.score_mean is not None and live.score_mean is not None:
        shift = abs(candidate.score_mean - live.score_mean)
        if relative_scores:
            shift /= max(abs(live.score_mean), 1e-9)
        scores = (f"mean prediction {candidate.score_mean:.4g} vs live {live.score_mean:.4g} "
                  f"(shift {shift:.3f})")
        if shift > checks.max_prediction_shift:
            failures.append(f"{scores} (more than {checks.max_prediction_shift:g})")
        else:
            notes.append(scores)
    if shadow and candidate.agreement is not None:
        agreed = f"agreement with live {candidate.agreement:.1%}"
        if candidate.agreement < checks.min_shadow_agreement:
            failures.append(f"{agreed} (below {checks.min_shadow_agreement:.0%})")
        else:
            notes.append(agreed)
    if failures:
        return Verdict(Health.UNHEALTHY, tuple(failures))
    return Verdict(Health.HEALTHY, tuple(notes) or ("no difference measured",))
