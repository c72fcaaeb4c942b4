"""Drift detection: sluice vs Evidently's data drift preset (same data, methods, thresholds, process and run).

The cost of capturing the traffic drift detection reads is measured on the request path, where it is paid:
benchmarks/bench_request_path.py.

Data: 20 numeric + 5 categorical columns, reference and current of 100,000 rows each, then 1,000,000 each
(generated under build/bench/). 12 of the 25 columns drift, by amounts from tiny to large, so verdicts are tested
near the thresholds too. sluice is timed twice: building the training baseline from the reference plus the drift
check and its report (apples to apples with Evidently, which reads the raw reference every run and builds its whole
report), and the check and report alone against the stored baseline (what the scheduled detect_drift does). The
report is sluice's JSON document rendered to its HTML page, as the step writes them; Evidently's timing covers
``Report.run`` (its snapshot, no HTML), so the comparison leans toward Evidently.

Evidently 0.7 imports ``pandas.core.dtypes.common.infer_dtype_from_object``, which pandas 3 removed; it is only
used by a data-integrity test, not by drift, so it is restored as a shim before the import.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.results import write_section
from sluice.config.monitoring import MonitoringSettings
from sluice.monitoring import build_baseline, detect_drift
from sluice.monitoring.report import render_html, report_document

BUILD = Path(__file__).resolve().parents[1] / "build" / "bench"
NUMERIC, CATEGORICAL = 20, 5
SIZES = (100_000, 1_000_000)
PAIRS = (("psi", "chisquare"), ("wasserstein", "jensenshannon"), ("ks", "psi"))
THRESHOLDS = {"psi": 0.1, "wasserstein": 0.1, "ks": 0.05, "chisquare": 0.05, "jensenshannon": 0.1}
P_VALUES = {"ks", "chisquare"}


def make_data(rows: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames; numeric columns 10-19 and categorical 3-4 drift, increasingly."""
    path = BUILD / f"drift-{rows}.parquet"
    if path.exists():
        both = pd.read_parquet(path)
        return both[both["_part"] == "reference"].drop(columns="_part"), both[both["_part"] == "current"].drop(
            columns="_part")
    rng = np.random.default_rng(seed)
    frames = []
    for part in ("reference", "current"):
        columns: dict[str, Any] = {}
        for i in range(NUMERIC):
            drift = part == "current" and i >= NUMERIC // 2
            step = i - NUMERIC // 2 + 1
            shift, scale = (0.03 * step, 1.0 + 0.02 * step) if drift else (0.0, 1.0)
            base = rng.normal(shift, scale, rows) if i % 2 == 0 else rng.gamma(2.0 + shift, scale, rows)
            columns[f"num_{i:02d}"] = base * (i + 1)
        for j in range(CATEGORICAL):
            weights = np.array([0.4, 0.25, 0.15, 0.1, 0.06, 0.04])
            if part == "current" and j >= 3:
                weights = weights + np.array([-0.04, 0.0, 0.0, 0.0, 0.0, 0.04]) * (j - 2)
            columns[f"cat_{j}"] = rng.choice(np.array([f"c{k}" for k in range(6)], dtype=object), rows,
                                             p=weights / weights.sum())
        columns["_part"] = part
        frames.append(pd.DataFrame(columns))
    BUILD.mkdir(parents=True, exist_ok=True)
    both = pd.concat(frames, ignore_index=True)
    both.to_parquet(path)
    return make_data(rows, seed)


def sluice_run(reference: pd.DataFrame, current: pd.DataFrame, num: str, cat: str) -> tuple[dict[str, bool], float,
                                                                                             float]:
    """(verdict per column, seconds baseline + check + report, seconds check + report against the stored baseline).

    The check and report are what the scheduled step does (steps/drift.py): every statistic of every column, the
    JSON report and its HTML rendering — as Evidently builds its whole report.
    """
    settings = MonitoringSettings(numeric_method=num, categorical_method=cat, thresholds=dict(THRESHOLDS))
    kinds = {c: ("numeric" if c.startswith("num") else "categorical") for c in reference.columns}
    started = time.perf_counter()
    baseline = build_baseline({c: reference[c].to_numpy() for c in kinds}, kinds)  # type: ignore[arg-type]
    built = time.perf_counter()
    result = detect_drift(baseline, {c: current[c].to_numpy() for c in kinds}, settings)
    report = report_document(result, model="bench", version=1, seconds=0.0, checked_at="2026-01-01T00:00:00Z",
                             window={"from": "2025-12-31T00:00:00Z", "to": "2026-01-01T00:00:00Z", "hours": 24})
    render_html(report)
    done = time.perf_counter()
    return {f.name: f.drifted for f in result.features}, done - started, done - built


def evidently_run(reference: pd.DataFrame, current: pd.DataFrame, num: str, cat: str) -> tuple[dict[str, bool],
                                                                                                float]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=[c for c in reference.columns if c.startswith("num")],
                                categorical_columns=[c for c in reference.columns if c.startswith("cat")])
    started = time.perf_counter()
    report = Report([DataDriftPreset(num_method=num, cat_method=cat, num_threshold=THRESHOLDS[num],
                                     cat_threshold=THRESHOLDS[cat])])
    snapshot = report.run(Dataset.from_pandas(current, data_definition=definition),
                          Dataset.from_pandas(reference, data_definition=definition))
    seconds = time.perf_counter() - started
    verdicts = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        if config.get("type") == "evidently:metric_v2:ValueDrift":
            method, value = config["method"], float(metric["value"])
            verdicts[config["column"]] = value <= config["threshold"] if method in P_VALUES else \
                value >= config["threshold"]
    return verdicts, seconds


def main() -> None:
    import pandas.core.dtypes.common as common

    if not hasattr(common, "infer_dtype_from_object"):  # see the module docstring
        common.infer_dtype_from_object = lambda value: pd.api.types.pandas_dtype(value).type
    import evidently

    sizes = tuple(int(s) for s in sys.argv[1:]) or SIZES
    rows_out = []
    for rows in sizes:
        reference, current = make_data(rows)
        for num, cat in PAIRS:
            gc.collect()
            ours, full, drift_only = sluice_run(reference, current, num, cat)
            gc.collect()
            theirs, seconds = evidently_run(reference, current, num, cat)
            agree = sum(ours[c] == theirs[c] for c in ours) / len(ours)
            disagree = sorted(c for c in ours if ours[c] != theirs[c])
            rows_out.append((rows, num, cat, seconds, full, drift_only, agree, disagree,
                             sum(ours.values()), sum(theirs.values())))
            print(f"{rows:>9} {num}/{cat}: evidently {seconds:.2f}s, sluice {full:.3f}s (drift only "
                  f"{drift_only:.3f}s) = {seconds / full:.1f}x ({seconds / drift_only:.1f}x); agreement "
                  f"{agree:.0%} {disagree}", flush=True)
    table = ["| rows (ref + cur) | methods (num / cat) | Evidently s | sluice s (baseline + check + report) | "
             "speed-up | sluice s (check + report vs stored baseline) | speed-up | verdict agreement | "
             "drifted (sluice / Evidently) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for rows, num, cat, seconds, full, drift_only, agree, disagree, ours_n, theirs_n in rows_out:
        note = f" (differ: {', '.join(disagree)})" if disagree else ""
        table.append(f"| {rows:,} + {rows:,} | {num} / {cat} | {seconds:.2f} | {full:.3f} | {seconds / full:.1f}x | "
                     f"{drift_only:.3f} | {seconds / drift_only:.1f}x | {agree:.0%} of 25{note} | "
                     f"{ours_n} / {theirs_n} |")
    body = (f"Evidently {evidently.__version__}, DataDriftPreset with the same method and threshold per column type "
            f"as sluice (thresholds {THRESHOLDS}); 20 numeric + 5 categorical columns, 12 of them (10 numeric, "
            "2 categorical) drifting by graded amounts, so some sit near the thresholds. sluice is timed building the "
            "baseline from the raw reference plus the check, its JSON report and that report's HTML page (what "
            "Evidently does every run, which is timed over `Report.run` without HTML), and the check and report "
            "alone against the stored baseline (what the scheduled detect_drift does). Evidently 0.7 needs a one-line "
            "shim on pandas 3 (`infer_dtype_from_object`, used only by a data-integrity test, not by drift).\n\n"
            + "\n".join(table) + "\n\nCapture's cost on the request path: the request-path section.")
    write_section("drift", "Drift detection vs Evidently",
                  "python -m benchmarks.bench_drift", body)


if __name__ == "__main__":
    main()
