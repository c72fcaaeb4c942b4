"""Budgeted hyperparameter search across families: seeded TPE with median pruning over the CV folds."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.metrics import get_scorer

from sluice import progress
from sluice.config.model import ModelConfig
from sluice.training.budget import TrainingBudget
from sluice.training.families import build_pipeline
from sluice.training.space import defaults, enqueued, suggest

Folds = Sequence[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class SearchOutcome:
    """The winning family and hyperparameters, every trial, and how the search ran."""

    family: str
    params: dict[str, Any]
    cv: dict[str, dict[str, float]]
    trials: tuple[dict[str, Any], ...]
    summary: dict[str, Any]


def search(
    features: pd.DataFrame, labels: pd.Series, model: ModelConfig, folds: Folds, scorer: str, *, lower_is_better: bool,
    budget: TrainingBudget | None = None,
) -> SearchOutcome:
    """Cross-validate each family's defaults and, with a tuning budget, search on with Optuna.

    Without a budget every family runs its defaults once (no Optuna). With one, ``budget`` (by default the
    tuning's time limit on the wall clock) stops the search where the refit of the best family still fits.
    Scores are recorded in the metric's own sign (RMSE positive); ties go to the earlier trial.
    """
    started = time.perf_counter()
    sign = -1.0 if lower_is_better else 1.0
    tuning = model.training.tuning
    if not tuning.enabled:
        score = _fold_scorer(features, labels, model, folds, get_scorer(scorer), sign)
        trials = []
        for number, family in enumerate(model.training.families):
            trials.append(_untuned_trial(number, family, defaults(family, model.task), score))
            _tell(model, trials, len(model.training.families), sign)
        summary: dict[str, Any] = {"method": "defaults", "budget": None}
    else:
        budget = budget or TrainingBudget(tuning.search_timeout_s, rows=len(features))
        records: list[dict[str, Any]] = []

        def best_family() -> str | None:
            best = _best_trial(records, sign)
            return None if best is None else str(best["family"])

        score = _fold_scorer(features, labels, model, folds, get_scorer(scorer), sign,
                             budget=budget, best_family=best_family)
        trials, summary = _optuna_trials(model, score, len(folds), records, lower_is_better=lower_is_better)
    complete = [trial for trial in trials if trial["state"] == "complete"]
    best = _best_trial(trials, sign)
    assert best is not None  # the budget never stops a search before its first complete trial
    summary.update({
        "trials": len(trials),
        "complete": len(complete),
        "pruned": sum(1 for trial in trials if trial["state"] == "pruned"),
        "stopped": sum(1 for trial in trials if trial["state"] == "stopped"),
        "best_trial": best["number"],
        "duration_s": round(time.perf_counter() - started, 3),
    })
    return SearchOutcome(
        family=best["family"],
        params=best["params"],
        cv=_best_per_family(complete, model.training.families, sign),
        trials=tuple(trials),
        summary=summary,
    )


FoldScorer = Callable[[str, dict[str, Any], Callable[[int, float], bool]], list[float]]


class BudgetSpentError(Exception):
    """The training's time budget ends before the next fold (and the refit after it) would."""

    def __init__(self, scores: list[float]) -> None:
        super().__init__(f"time budget spent after {len(scores)} folds")
        self.scores = scores


def _fold_scorer(
    features: pd.DataFrame, labels: pd.Series, model: ModelConfig, folds: Folds, scorer: Any, sign: float, *,
    budget: TrainingBudget | None = None, best_family: Callable[[], str | None] = lambda: None,
) -> FoldScorer:
    """``score(family, params, stop)``: fold scores in order; ``stop(step, running mean)`` may end it early.

    With a ``budget``, each fold fit is timed, and a fold that would not leave time to refit the best family
    so far is not started (``BudgetSpentError`` carries the scores so far).
    """

    def score(family: str, params: dict[str, Any], stop: Callable[[int, float], bool]) -> list[float]:
        scores: list[float] = []
        for step, (fit_rows, score_rows) in enumerate(folds):
            if budget is not None and not budget.allows_fit(family, len(fit_rows), best_family()):
                raise BudgetSpentError(scores)
            pipeline = build_pipeline(family, model, params)
            fit_started = budget.clock() if budget is not None else 0.0
            pipeline.fit(features.iloc[fit_rows], labels.iloc[fit_rows])
            if budget is not None:
                budget.record_fit(family, len(fit_rows), budget.clock() - fit_started)
            scores.append(sign * float(scorer(pipeline, features.iloc[score_rows], labels.iloc[score_rows])))
            if stop(step, float(np.mean(scores))):
                break
        return scores

    return score


def _untuned_trial(number: int, family: str, params: dict[str, Any], score: FoldScorer) -> dict[str, Any]:
    started = time.perf_counter()
    scores = score(family, {}, lambda step, value: False)
    return _record(number, family, params, scores, "complete", started)


def _best_trial(records: list[dict[str, Any]], sign: float) -> dict[str, Any] | None:
    """The complete trial with the best score (ties: the earlier one); None before any is complete."""
    complete = [record for record in records if record["state"] == "complete"]
    return min(complete, key=lambda record: (-sign * record["value"], record["number"])) if complete else None


def _optuna_trials(
    model: ModelConfig, score: FoldScorer, n_folds: int, records: list[dict[str, Any]], *, lower_is_better: bool,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    settings = model.training
    tuning = settings.tuning
    families = settings.families
    logging.getLogger("optuna").setLevel(logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=settings.seed, n_startup_trials=max(5, len(families)))
    pruner: optuna.pruners.BasePruner = (
        optuna.pruners.MedianPruner(n_startup_trials=len(families), n_warmup_steps=1)
        if tuning.pruning else optuna.pruners.NopPruner()
    )
    study = optuna.create_study(direction="minimize" if lower_is_better else "maximize", sampler=sampler,
                                pruner=pruner, study_name=model.name)
    for family in families:
        study.enqueue_trial(enqueued(family, model.task))
    stopped = False

    def objective(trial: optuna.Trial) -> float:
        started = time.perf_counter()
        family = str(trial.suggest_categorical("family", list(families)))
        params = suggest(trial, family)

        def stop(step: int, value: float) -> bool:
            trial.report(value, step)
            return trial.should_prune()

        try:
            scores = score(family, params, stop)
        except BudgetSpentError as spent:
            nonlocal stopped
            stopped = True
            study.stop()
            if spent.scores:
                records.append(_record(trial.number, family, params, spent.scores, "stopped", started))
                _tell(model, records, None, -1.0 if lower_is_better else 1.0)
            raise optuna.TrialPruned() from None
        pruned = len(scores) < n_folds
        records.append(_record(trial.number, family, params, scores, "pruned" if pruned else "complete", started))
        _tell(model, records, max(tuning.trials, len(families)) if tuning.trials else None,
              -1.0 if lower_is_better else 1.0)
        if pruned:
            raise optuna.TrialPruned()
        return float(np.mean(scores))

    trials = max(tuning.trials, len(families)) if tuning.trials else None
    study.optimize(objective, n_trials=trials, timeout=tuning.search_timeout_s, catch=())
    summary = {
        "method": "optuna",
        "sampler": f"TPESampler(seed={settings.seed})",
        "pruner": f"MedianPruner(n_startup_trials={len(families)}, n_warmup_steps=1)" if tuning.pruning else None,
        "budget": {"trials": tuning.trials or None, "timeout_s": tuning.timeout_s},
        "stopped_by_time_budget": stopped,
    }
    return records, summary


def _tell(model: ModelConfig, records: list[dict[str, Any]], planned: int | None, sign: float) -> None:
    """Report the trial just recorded (and the best CV score so far) to whoever follows the training."""
    last = records[-1]
    complete = [record["value"] for record in records if record["state"] == "complete"]
    best = max(complete, key=lambda value: sign * value) if complete else None
    progress.report("trial", {"model": model.name, "number": last["number"], "family": last["family"],
                              "state": last["state"], "value": last["value"], "best": best, "planned": planned})


def _record(
    number: int, family: str, params: dict[str, Any], scores: list[float], state: str, started: float
) -> dict[str, Any]:
    return {
        "number": number,
        "family": family,
        "params": {key: _json_safe(value) for key, value in params.items()},
        "state": state,
        "value": float(np.mean(scores)),
        "fold_scores": [round(value, 6) for value in scores],
        "duration_s": round(time.perf_counter() - started, 3),
    }


def _best_per_family(
    complete: list[dict[str, Any]], families: tuple[str, ...], sign: float
) -> dict[str, dict[str, float]]:
    cv: dict[str, dict[str, float]] = {}
    for family in families:
        own = [trial for trial in complete if trial["family"] == family]
        if own:
            best = min(own, key=lambda t: (sign * -t["value"], t["number"]))
            cv[family] = {"mean": best["value"], "std": float(np.std(best["fold_scores"]))}
    return cv


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return value.item() if hasattr(value, "item") else str(value)
