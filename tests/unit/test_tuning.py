"""Model selection under a budget: seeded Optuna TPE over the families, median pruning, every trial recorded."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sluice.config import (
    ColumnSpec,
    DataContract,
    EvaluationGates,
    ModelConfig,
    TrainingSettings,
    TuningSettings,
    load_config,
)
from sluice.training import split_holdout, train_best

ROOT = Path(__file__).resolve().parents[2]
DIABETES = ROOT / "layers" / "sluice" / "python" / "sluice" / "demo" / "data" / "diabetes.csv"


@pytest.fixture(scope="module")
def diabetes():
    config = load_config(ROOT / "sluice.toml").model("diabetes")
    train, _ = split_holdout(pd.read_csv(DIABETES), config)
    return config, train


def tuned(config: ModelConfig, **tuning) -> ModelConfig:
    training = dataclasses.replace(config.training, tuning=TuningSettings(**tuning), cv_folds=3)
    return dataclasses.replace(config, training=training)


def test_a_trial_budget_runs_exactly_that_many_trials_and_records_each(diabetes):
    # GIVEN the diabetes data, three families and a budget of 7 trials
    config, train = diabetes
    model = tuned(config, trials=7)
    # WHEN the best model is searched
    result = train_best(train, model)
    # THEN 7 trials ran: each family's defaults first, then TPE's suggestions
    assert [trial["number"] for trial in result.trials] == list(range(7))
    assert [trial["family"] for trial in result.trials[:3]] == list(config.training.families)
    assert result.trials[0]["params"] == {"alpha": 1.0}
    assert {trial["state"] for trial in result.trials} <= {"complete", "pruned"}
    # AND every trial is JSON-safe with its fold scores, and the winner is the best complete trial (lowest RMSE)
    assert json.loads(json.dumps(list(result.trials))) == list(result.trials)
    complete = [trial for trial in result.trials if trial["state"] == "complete"]
    best = min(complete, key=lambda trial: trial["value"])
    assert result.family == best["family"] and result.search["best_trial"] == best["number"]
    assert all(len(trial["fold_scores"]) == 3 for trial in complete)
    assert result.search["method"] == "optuna" and result.search["budget"] == {"trials": 7, "timeout_s": None}
    assert result.cv[result.family]["mean"] == pytest.approx(best["value"])


def test_the_search_is_reproducible_with_its_seed(diabetes):
    # GIVEN the same data, budget and seed WHEN searched twice THEN the same trials and scores come out
    config, train = diabetes
    model = tuned(config, trials=6)
    first, second = train_best(train, model), train_best(train, model)
    strip = [{k: v for k, v in trial.items() if k != "duration_s"} for trial in first.trials]
    assert strip == [{k: v for k, v in trial.items() if k != "duration_s"} for trial in second.trials]


def test_pruning_stops_hopeless_trials_after_a_few_folds():
    # GIVEN a problem where weak regularization choices are clearly worse, and many trials
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5))
    y = x @ np.array([3.0, -2.0, 1.0, 0.0, 0.0]) + rng.normal(scale=0.5, size=300)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(5)]).assign(y=y)
    model = ModelConfig(
        name="linear", task="regression",
        contract=DataContract(columns=tuple(ColumnSpec(f"x{i}", "float") for i in range(5)), target="y",
                              target_type="float"),
        training=TrainingSettings(families=("ridge",), cv_folds=5, seed=1, tuning=TuningSettings(trials=25)),
        gates=EvaluationGates(primary_metric="rmse"),
    )
    # WHEN searched with pruning
    result = train_best(frame, model)
    # THEN some trials were pruned before their last fold, and they are recorded as such
    pruned = [trial for trial in result.trials if trial["state"] == "pruned"]
    assert pruned and all(len(trial["fold_scores"]) < 5 for trial in pruned)
    assert result.search["pruned"] == len(pruned)
    assert result.params["alpha"] < 10


def test_without_a_budget_each_family_trains_its_defaults_once(diabetes):
    # GIVEN no tuning budget WHEN trained THEN one default trial per family and no Optuna
    config, train = diabetes
    result = train_best(train, tuned(config))
    assert [trial["family"] for trial in result.trials] == list(config.training.families)
    assert result.search["method"] == "defaults" and result.search["pruned"] == 0


def test_a_time_column_holds_out_the_latest_rows_and_trains_on_the_past(diabetes):
    # GIVEN a contract whose "s1" column orders the rows in time
    config, _ = diabetes
    frame = pd.read_csv(DIABETES)
    model = dataclasses.replace(config, training=dataclasses.replace(config.training, time_column="s1", cv_folds=3))
    # WHEN split
    train, holdout = split_holdout(frame, model)
    # THEN the holdout is the latest 20 % and every training row is older
    assert len(holdout) == round(len(frame) * 0.2)
    assert train["s1"].max() <= holdout["s1"].min()
    # AND training (forward-chaining folds) does not use the time column as a feature
    result = train_best(train, model)
    used = [name for _, _, columns in result.pipeline.named_steps["preprocess"].transformers for name in columns]
    assert "s1" not in used
