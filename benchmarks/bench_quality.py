"""Quality: the holdout score of sluice's selected model vs FLAML's, same data, same splits, same time budget.

Datasets are the real ones scikit-learn ships (no download). Both tools search for ``BUDGET_S`` seconds on the
same training rows (sluice: its families with Optuna; FLAML: its default learners, LightGBM and XGBoost
included), single-threaded; both are scored on the same holdout with the same scikit-learn metric — sluice
through its served ONNX model. Each dataset is split ``len(SEEDS)`` times (a different seeded 20% holdout,
and that seed for both searches); the score of a tool is its mean over the splits. The datasets are small
(a diabetes holdout is 89 rows, where one split's R2 moves by several hundredths), so one split alone
compares the split more than the tools. Run: ``OMP_NUM_THREADS=1 python -m benchmarks.bench_quality``.
"""

from __future__ import annotations

import logging
import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.metrics import r2_score, roc_auc_score

from benchmarks.results import write_section
from sluice.config import (
    ColumnSpec,
    DataContract,
    EvaluationGates,
    ModelConfig,
    TrainingSettings,
    TuningSettings,
)
from sluice.config.model import CLASSIFICATION_FAMILIES, REGRESSION_FAMILIES
from sluice.evaluation import score
from sluice.serving import OnnxModel
from sluice.training import export_onnx, feature_frame, split_holdout, target_values, train_best

BUDGET_S = 20.0
SEEDS = (42, 43, 44)
DATASETS: dict[str, Callable[..., Any]] = {
    "breast_cancer": datasets.load_breast_cancer,
    "wine": datasets.load_wine,
    "iris": datasets.load_iris,
    "digits": datasets.load_digits,
    "diabetes": datasets.load_diabetes,
}


def _frame(name: str, seed: int) -> tuple[pd.DataFrame, ModelConfig]:
    bunch = DATASETS[name](as_frame=True)
    features = bunch.data.rename(columns=lambda column: re.sub(r"\W+", "_", f"f_{column}"))
    regression = name == "diabetes"
    target = bunch.target.astype(float) if regression else bunch.target.map(lambda k: f"class_{k}")
    frame = features.assign(target=target.to_numpy())
    config = ModelConfig(
        name=name.replace("_", "-"),
        task="regression" if regression else "classification",
        contract=DataContract(columns=tuple(ColumnSpec(column, "float") for column in features.columns),
                              target="target", target_type="float" if regression else "string"),
        training=TrainingSettings(
            families=REGRESSION_FAMILIES if regression else CLASSIFICATION_FAMILIES, cv_folds=5,
            holdout_fraction=0.2, seed=seed, tuning=TuningSettings(timeout_s=BUDGET_S),
        ),
        gates=EvaluationGates(primary_metric="r2" if regression else "roc_auc"),
    )
    return frame, config


def _sluice(train: pd.DataFrame, holdout: pd.DataFrame, config: ModelConfig) -> tuple[float, float, str]:
    started = time.perf_counter()
    result = train_best(train, config)
    exported = export_onnx(result, config, holdout)
    seconds = time.perf_counter() - started
    served = OnnxModel.from_bytes(exported.onnx_bytes, exported.signature)
    metrics = score(served, holdout, config)
    search = result.search or {}
    return metrics[config.gates.primary_metric], seconds, f"{result.family} ({search.get('trials')} trials)"


def _flaml(train: pd.DataFrame, holdout: pd.DataFrame, config: ModelConfig) -> tuple[float, float, str]:
    from flaml import AutoML

    automl = AutoML()
    x_train, y_train = feature_frame(train, config), target_values(train, config)
    x_holdout, y_holdout = feature_frame(holdout, config), target_values(holdout, config)
    classification = config.task == "classification"
    binary = classification and y_train.nunique() == 2
    metric = "r2" if not classification else "roc_auc" if binary else "roc_auc_ovr"
    started = time.perf_counter()
    automl.fit(x_train, y_train, task="classification" if classification else "regression", metric=metric,
               time_budget=BUDGET_S, seed=config.training.seed, n_jobs=1, verbose=0)
    seconds = time.perf_counter() - started
    if not classification:
        value = r2_score(y_holdout, automl.predict(x_holdout))
    else:
        probabilities = automl.predict_proba(x_holdout)
        labels = list(automl.classes_)
        value = (roc_auc_score(y_holdout == labels[1], probabilities[:, 1]) if binary
                 else roc_auc_score(y_holdout, probabilities, multi_class="ovr", labels=labels))
    return float(value), seconds, str(automl.best_estimator)


@dataclass(frozen=True)
class Run:
    """One tool on one split: its holdout score, search wall time and chosen model."""

    score: float
    seconds: float
    model: str


def _compare(name: str) -> tuple[ModelConfig, int, list[tuple[Run, Run]]]:
    """sluice and FLAML on every seeded split of ``name``."""
    runs = []
    for seed in SEEDS:
        frame, config = _frame(name, seed)
        train, holdout = split_holdout(frame, config)
        ours, theirs = Run(*_sluice(train, holdout, config)), Run(*_flaml(train, holdout, config))
        print(f"{name} seed {seed}: sluice {ours} FLAML {theirs}", flush=True)
        runs.append((ours, theirs))
    return config, len(frame), runs


def main() -> None:
    logging.getLogger("flaml").setLevel(logging.ERROR)
    lines = ["| dataset | rows x features | metric | sluice mean (served ONNX) | FLAML mean | sluice / FLAML | "
             "per-split ratios | sluice models | FLAML models | mean seconds sluice / FLAML |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    ratios, split_ratios = [], []
    for name in DATASETS:
        config, rows, runs = _compare(name)
        ours = statistics.fmean(run.score for run, _ in runs)
        theirs = statistics.fmean(run.score for _, run in runs)
        ratios.append(ours / theirs)
        split_ratios += [mine.score / other.score for mine, other in runs]
        per_split = ", ".join(f"{mine.score / other.score:.3f}" for mine, other in runs)
        lines.append(
            f"| {name} | {rows} x {len(config.contract.columns)} | {config.gates.primary_metric} | {ours:.4f} | "
            f"{theirs:.4f} | {ours / theirs:.4f} | {per_split} | {_models(run for run, _ in runs)} | "
            f"{_models(run for _, run in runs)} | {statistics.fmean(run.seconds for run, _ in runs):.1f} / "
            f"{statistics.fmean(run.seconds for _, run in runs):.1f} |")
        print(lines[-1], flush=True)
    verdict = "within 1% of FLAML (or better) on every dataset" if min(ratios) >= 0.99 else \
        f"NOT within 1% on every dataset (worst ratio {min(ratios):.4f})"
    body = (f"Time budget {BUDGET_S:g} s per tool per dataset and split, one thread; splits seeded "
            f"{', '.join(map(str, SEEDS))} (the same seeded 20% holdout for both tools, stratified for "
            "classification, and the same seed for both searches); a tool's score is its mean over the splits. "
            "roc_auc is one-vs-rest for multiclass. sluice's time budget stops new trials, a running trial "
            "finishes (its wall time is shown). Models: the family chosen on each split (sluice: trials run).\n\n"
            + "\n".join(lines) + f"\n\nWorst ratio of means: **{min(ratios):.4f}**; geometric mean "
            f"{float(np.exp(np.mean(np.log(ratios)))):.4f}; worst single split {min(split_ratios):.4f}. "
            f"Result: {verdict}.")
    write_section("quality", "Quality: sluice's selected model vs FLAML, same time budget",
                  "OMP_NUM_THREADS=1 python -m benchmarks.bench_quality", body)


def _models(runs: Iterable[Run]) -> str:
    return "; ".join(run.model for run in runs)


if __name__ == "__main__":
    main()
