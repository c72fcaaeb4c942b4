"""The training's time budget covers search and refit: folds stop where the best family's refit still fits."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from sluice.config import TuningSettings, load_config
from sluice.training import feature_frame, split_holdout, target_values
from sluice.training.budget import TrainingBudget
from sluice.training.search import _folds
from sluice.training.tuning import search

ROOT = Path(__file__).resolve().parents[2]
DIABETES = ROOT / "layers" / "sluice" / "python" / "sluice" / "demo" / "data" / "diabetes.csv"


class TickingClock:
    """A clock that moves ``step`` seconds each time it is read: every fold fit "takes" one step."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_nothing_is_cut_before_a_trial_is_complete():
    # GIVEN a budget already spent
    clock = TickingClock(100.0)
    budget = TrainingBudget(10.0, rows=1000, clock=clock)
    budget.record_fit("ridge", rows=800, seconds=8.0)
    # WHEN asked before any trial is complete, THEN the fold may run; after one is, it may not
    assert budget.allows_fit("ridge", 800, best_family=None)
    assert not budget.allows_fit("ridge", 800, best_family="ridge")
    assert budget.exhausted("ridge") and not budget.exhausted(None)


def test_the_refit_reserve_grows_with_the_rows_and_the_slowest_fold():
    # GIVEN two folds of a family fitted at different per-row costs
    budget = TrainingBudget(60.0, rows=1000, clock=TickingClock(0.0))
    budget.record_fit("forest", rows=800, seconds=4.0)
    budget.record_fit("forest", rows=800, seconds=8.0)
    # THEN the refit on all 1000 rows is estimated from the slowest per-row cost
    assert budget.refit_seconds("forest") == pytest.approx(10.0)
    assert budget.refit_seconds("unknown") == 0.0
    # AND a fold fits only if it and the refit end inside the limit (elapsed 0 on a stopped clock)
    assert budget.allows_fit("forest", 800, best_family="forest")  # 8 + 10 <= 60
    budget.record_fit("forest", rows=100, seconds=5.0)  # 0.05 s a row: refit 50 s, a fold 40 s
    assert not budget.allows_fit("forest", 800, best_family="forest")


def test_a_search_stops_at_the_budget_and_keeps_the_best_complete_trial():
    # GIVEN the diabetes data and a search of up to 50 trials, on a clock where every reading costs one second
    config = load_config(ROOT / "sluice.toml").model("diabetes")
    train, _ = split_holdout(pd.read_csv(DIABETES), config)
    training = dataclasses.replace(config.training, tuning=TuningSettings(trials=50), cv_folds=3)
    model = dataclasses.replace(config, training=training)
    features, labels = feature_frame(train, model), target_values(train, model)
    clock = TickingClock(1.0)
    budget = TrainingBudget(30.0, rows=len(features), clock=clock)
    # WHEN searched with a 30 s budget
    outcome = search(features, labels, model, _folds(features, labels, model), "neg_root_mean_squared_error",
                     lower_is_better=True, budget=budget)
    # THEN the search stopped early, said so, and no fold started that would leave no time for the refit
    assert outcome.summary["stopped_by_time_budget"] is True
    assert len(outcome.trials) < 50
    assert budget.elapsed() + budget.refit_seconds(outcome.family) <= 30.0 + 2 * clock.step
    # AND the winner is a complete trial; a trial cut short is recorded as stopped with the folds it finished
    states = [trial["state"] for trial in outcome.trials]
    assert set(states) <= {"complete", "pruned", "stopped"}
    winner = next(trial for trial in outcome.trials if trial["number"] == outcome.summary["best_trial"])
    assert winner["state"] == "complete" and winner["family"] == outcome.family
    assert all(0 < len(trial["fold_scores"]) < 3 for trial in outcome.trials if trial["state"] == "stopped")
