"""Global importance from per-prediction explanations: each feature's mean |contribution| over a sample.

This is the explanations' own view of the model: how far, on average, a feature moves the explained output
(log-odds, a forest's class probability, or the value) away from the base value. It is computed from the very
:class:`~sluice.explain.model.Explanation` objects ``:explain`` answers, so a user who averages the endpoint's
answers over the same rows gets the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sluice.explain.model import Explanation


def mean_abs_contributions(explanations: Iterable[Explanation], features: Sequence[str]) -> dict[str, float]:
    """``{feature: mean |contribution|}`` over ``explanations``, most important first ({} for none)."""
    totals = dict.fromkeys(features, 0.0)
    count = 0
    for explanation in explanations:
        count += 1
        for name, value in explanation.contributions.items():
            totals[name] += abs(value)
    if count == 0:
        return {}
    return dict(sorted(((name, total / count) for name, total in totals.items()), key=lambda item: -item[1]))
