"""A release strategy as a plan: the stages of traffic the candidate goes through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # read, not built here: the predict path imports this package without the configuration
    from sluice.config import DeploymentSettings


@dataclass(frozen=True)
class Stage:
    """Hold the candidate at ``weight`` of live traffic for ``minutes``, then check."""

    weight: float
    minutes: float
    label: str


def plan(settings: DeploymentSettings) -> tuple[Stage, ...]:
    """The stages of a progressive strategy (all_at_once has none)."""
    strategy = settings.strategy
    if strategy == "canary":
        return (Stage(settings.canary_weight, settings.bake_minutes, f"canary {settings.canary_weight:.0%}"),)
    if strategy == "linear":
        stages = []
        step = 1
        while step * settings.linear_step < 1 - 1e-9:
            weight = round(step * settings.linear_step, 6)
            stages.append(Stage(weight, settings.interval_minutes, f"linear {weight:.0%}"))
            step += 1
        return tuple(stages)
    if strategy == "ab":
        split = settings.ab_split
        return (Stage(split, settings.ab_minutes, f"A/B {1 - split:.0%}/{split:.0%}"),)
    if strategy == "shadow":
        return (Stage(0.0, settings.shadow_minutes, "shadow"),)
    return ()
