"""The stage layout: which model stack holds a model, and what the configuration refuses because AWS would."""

from __future__ import annotations

import pytest

from sluice.config import ConfigError, load_config_text
from sluice.config.layout import (
    MODEL_GROUPS,
    MODELS_PER_GROUP,
    RULES_PER_BUS,
    SHARED_DEFAULT_BUS_RULES,
    model_group,
    model_groups,
    schedule_rules,
)
from sluice.wiring.routes import ROUTES, ScheduleTrigger


def model_toml(name: str, *, strategy: str = "all_at_once", drift: bool = False) -> str:
    return f"""
[models.{name}]
task = "regression"
[models.{name}.training]
families = ["ridge"]
retrain_schedule = "rate(7 days)"
[models.{name}.deployment]
strategy = "{strategy}"
{f'[models.{name}.monitoring]{chr(10)}drift_schedule = "rate(1 hour)"' if drift else ""}
[models.{name}.contract]
target = "y"
[[models.{name}.contract.columns]]
name = "x"
"""


def test_a_models_stack_is_a_fixed_hash_of_its_name() -> None:
    # GIVEN the sample models: their stacks are pinned (a change would move deployed models between stacks,
    # which CloudFormation cannot do for named resources)
    assert [model_group(name) for name in ("breast-cancer", "diabetes", "churn")] == [8, 6, 14]
    # AND adding models never moves the ones already there
    before = model_groups([f"model-{i}" for i in range(30)])
    after = model_groups([f"model-{i}" for i in range(60)])
    for group, members in before.items():
        assert set(members) <= set(after[group])
    assert all(0 <= group < MODEL_GROUPS for group in after)


def test_more_models_in_one_stack_than_it_holds_are_refused_naming_the_limit() -> None:
    # GIVEN one model more than a model stack holds, all hashed into the same stack
    names: list[str] = []
    index = 0
    while len(names) <= MODELS_PER_GROUP:
        if model_group(f"m-{index}") == model_group("m-0"):
            names.append(f"m-{index}")
        index += 1
    # THEN the configuration is refused, naming CloudFormation's limit and the fix
    with pytest.raises(ConfigError, match=r"share model stack .* holds at most 18 .*500 resources per stack.*rename"):
        load_config_text("".join(model_toml(name) for name in names))
    # AND one fewer loads
    assert len(load_config_text("".join(model_toml(name) for name in names[:-1])).models) == MODELS_PER_GROUP


def test_more_schedules_than_the_default_bus_holds_are_refused() -> None:
    # GIVEN 99 models with a retrain, a drift and a bake-check schedule each: 297 schedules and 5 other rules
    text = "".join(model_toml(f"model-{i:03d}", strategy="canary", drift=True) for i in range(99))
    # THEN the configuration names EventBridge's quota
    with pytest.raises(ConfigError, match=r"302 rules on the default event bus .*allows 300 per bus"):
        load_config_text(text)
    # AND 98 such models fit exactly
    fit = "".join(model_toml(f"model-{i:03d}", strategy="canary", drift=True) for i in range(98))
    assert SHARED_DEFAULT_BUS_RULES + 3 * 98 <= RULES_PER_BUS
    assert len(load_config_text(fit).models) == 98


@pytest.mark.parametrize(("strategy", "drift", "expected"), [
    ("all_at_once", False, 1), ("all_at_once", True, 2), ("canary", False, 2), ("canary", True, 3),
])
def test_the_schedules_counted_are_the_wirings_schedule_rules(strategy: str, drift: bool, expected: int) -> None:
    # GIVEN a model with some schedules
    model = load_config_text(model_toml("mm", strategy=strategy, drift=drift)).model("mm")
    # THEN the layout counts exactly the schedule routes of the wiring that have an expression for it
    wired = sum(1 for route in ROUTES if isinstance(route.trigger, ScheduleTrigger) and route.trigger.expression(model))
    assert schedule_rules(model) == wired == expected


def test_the_shared_default_bus_rules_are_the_wirings() -> None:
    from sluice.wiring import ROUTES, ScheduleTrigger

    # every route that is neither a schedule nor on sluice's own bus is one rule on the account's default bus
    # (the SageMaker job rule exists only when a model's training may run there: config.layout.job_rules)
    shared = [route for route in ROUTES if not route.on_sluice_bus and not route.needs_sagemaker
              and not isinstance(route.trigger, ScheduleTrigger)]
    assert len(shared) == SHARED_DEFAULT_BUS_RULES
