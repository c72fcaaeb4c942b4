"""Quality: the holdout score of sluice's selected model vs FLAML's, same data, same split, same time budget.

Datasets are the real ones scikit-learn ships (no download). Both tools search for ``BUDGET_S`` seconds on the
same training rows (sluice: its families with Optuna; FLAML: its default learners, LightGBM and XGBoost
included), single-threaded; both are scored on the same holdout with the same scikit-learn metric — sluice
through its served ONNX model. Run: ``OMP_NUM_THREADS=1 python -m benchmarks.bench_quality``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
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
SEED = 42
DATASETS: dict[str, Callable[..., Any]] = {
    "breast_cancer": datasets.load_breast_cancer,
    "wine": datasets.load_wine,
    "iris": datasets.load_iris,
    "digits": datasets.load_digits,
    "diabetes": datasets.load_diabetes,
}


def _frame(name: str) -> tuple[pd.DataFrame, ModelConfig]:
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
            holdout_fraction=0.2, seed=SEED, tuning=TuningSettings(timeout_s=BUDGET_S),
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
               time_budget=BUDGET_S, seed=SEED, n_jobs=1, verbose=0)
    seconds = time.perf_counter() - started
    if not classification:
        value = r2_score(y_holdout, automl.predict(x_holdout))
    else:
        probabilities = automl.predict_proba(x_holdout)
        labels = list(automl.classes_)
        value = (roc_auc_score(y_holdout == labels[1], probabilities[:, 1]) if binary
                 else roc_auc_score(y_holdout, probabilities, multi_class="ovr", labels=labels))
    return float(value), seconds, str(automl.best_estimator)


def main() -> None:
    logging.getLogger("flaml").setLevel(logging.ERROR)
    lines = ["| dataset | rows x features | metric | sluice (served ONNX) | FLAML | sluice / FLAML | "
             "sluice model | FLAML model | seconds sluice / FLAML |", "|---|---|---|---|---|---|---|---|---|"]
    ratios = []
    for name in DATASETS:
        frame, config = _frame(name)
        train, holdout = split_holdout(frame, config)
        ours, our_seconds, our_model = _sluice(train, holdout, config)
        theirs, their_seconds, their_model = _flaml(train, holdout, config)
        ratio = ours / theirs
        ratios.append(ratio)
        metric = config.gates.primary_metric
        lines.append(f"| {name} | {len(frame)} x {len(config.contract.columns)} | {metric} | {ours:.4f} | "
                     f"{theirs:.4f} | {ratio:.4f} | {our_model} | {their_model} | {our_seconds:.1f} / "
                     f"{their_seconds:.1f} |")
        print(lines[-1], flush=True)
    verdict = "within 1% of FLAML (or better) on every dataset" if min(ratios) >= 0.99 else \
        f"NOT within 1% on every dataset (worst ratio {min(ratios):.4f})"
    body = (f"Time budget {BUDGET_S:g} s per tool per dataset, seed {SEED}, one thread; the same seeded "
            "20% holdout (stratified for classification) for both; roc_auc is one-vs-rest for multiclass. "
            "sluice's time budget stops new trials, a running trial finishes (its wall time is shown).\n\n"
            + "\n".join(lines) + f"\n\nWorst ratio: **{min(ratios):.4f}**; geometric mean "
            f"{float(np.exp(np.mean(np.log(ratios)))):.4f}. Result: {verdict}.")
    write_section("quality", "Quality: sluice's selected model vs FLAML, same time budget",
                  "OMP_NUM_THREADS=1 python -m benchmarks.bench_quality", body)


if __name__ == "__main__":
    main()
