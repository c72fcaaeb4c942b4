"""How one stage's models are spread over CloudFormation stacks, and how many a stage can hold.

A stage is a parent stack (buckets, tables, the bus, the shared functions and their rules) plus one nested
stack per *model group*. A model's group is a stable hash of its name, so adding or removing a model never
moves another model between stacks (CloudFormation cannot move a named resource: it would create the copy
before deleting the original, and the names would collide).

The numbers are CloudFormation's 500 resources per stack divided by what one model adds (the predict
function, its role, policy and logs, the endpoint, alarms, capture stream, dashboard and schedule rules), and
EventBridge's 300 rules per bus divided by the schedules: ``tests/infra/test_limits.py`` checks them on a
synthesized full group and a 100-model stage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol


class Scheduled(Protocol):
    """What the layout reads of a model (its ModelConfig; not imported: config.model imports this module)."""

    @property
    def training(self) -> Any: ...

    @property
    def monitoring(self) -> Any: ...

    @property
    def deployment(self) -> Any: ...

MODEL_GROUPS = 16
"""Nested stacks a stage may have (one per non-empty group)."""
MODELS_PER_GROUP = 18
"""Models one nested stack holds under CloudFormation's 500 resources (21 per model and 4 per stack today:
382 at 18 models, room for 6 more resources per model)."""
MODELS_PER_STAGE = 100
"""The most models a stage is synthesized and checked with (tests/infra/test_limits.py)."""
STACK_RESOURCE_LIMIT = 500
RULES_PER_BUS = 300
"""EventBridge's default quota of rules per event bus; a schedule rule lives on the account's default bus."""
SHARED_DEFAULT_BUS_RULES = 5
"""The stage's own rules on the default bus besides the schedules and the SageMaker job rules (drops, feedback,
files to score, the two alarm routes; tests/unit/test_config_layout.py checks it against the wiring)."""


def job_rules(models: Mapping[str, Scheduled]) -> int:
    """The rules that bring SageMaker training jobs' ends back: one, when a model's training may run there."""
    return 1 if any(model.training.backend != "lambda" for model in models.values()) else 0


def model_group(model: str) -> int:
    """The group (0..MODEL_GROUPS-1) of ``model``: a hash of its name, the same on every machine and run."""
    return int.from_bytes(hashlib.sha256(model.encode()).digest()[:4], "big") % MODEL_GROUPS


def model_groups(models: Iterable[str]) -> dict[int, tuple[str, ...]]:
    """The non-empty groups, each with its models sorted."""
    groups: dict[int, list[str]] = {}
    for model in sorted(models):
        groups.setdefault(model_group(model), []).append(model)
    return {group: tuple(names) for group, names in sorted(groups.items())}


def schedule_rules(model: Scheduled) -> int:
    """The schedule rules ``model`` adds to the default bus: retrain, drift and bake check, each if configured."""
    schedules = (model.training.retrain_schedule, model.monitoring.drift_schedule, model.deployment.check_schedule)
    return sum(1 for expression in schedules if expression)


def layout_problem(models: Mapping[str, Scheduled]) -> str | None:
    """Why these models cannot deploy as one stage, naming the limit; None when they can."""
    names = sorted(models)
    if len(names) > MODELS_PER_STAGE:
        return (f"{len(names)} models: a stage deploys at most {MODELS_PER_STAGE} (the largest layout synthesized "
                f"and checked against AWS's limits); split them over two stages (-c stage=...)")
    for group, members in model_groups(names).items():
        if len(members) > MODELS_PER_GROUP:
            return (f"models {', '.join(members)} share model stack {group:02d}, which holds at most "
                    f"{MODELS_PER_GROUP} (CloudFormation allows {STACK_RESOURCE_LIMIT} resources per stack); "
                    f"rename one of them (a model's stack is a hash of its name)")
    shared = SHARED_DEFAULT_BUS_RULES + job_rules(models)
    rules = shared + sum(schedule_rules(model) for model in models.values())
    if rules > RULES_PER_BUS:
        return (f"{rules} rules on the default event bus ({rules - shared} schedules: retrain, "
                f"drift and bake check per model); EventBridge allows {RULES_PER_BUS} per bus by default, for "
                f"every stage in the account and region: drop schedules (all_at_once releases need no bake check) "
                f"or split the models over two accounts or regions")
    return None
