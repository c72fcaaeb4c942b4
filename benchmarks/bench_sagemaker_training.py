"""Training on the sagemaker backend, played by the local stack, against the Lambda's memory: what the job's process
really peaks at, and what that says of a 10M x 20 dataset.

Run: ``python -m benchmarks.bench_sagemaker_training [ROWS]`` (default 500,000 rows x 20 features). A generated
Parquet file is dropped under incoming/ and flows through the pipeline as any drop does: validate_dataset accepts
it, train_model (``backend = "sagemaker"``) starts a training job, the local runtime plays the job in its own
process (its peak RSS from ``wait4``) and its end makes the version a candidate.

It runs twice (ROWS / 4 and ROWS) to separate the job's base (interpreter and libraries) from what grows with the
cells. The reference, in the same run: the estimate ``auto`` decides with (``sluice.training.backend``: 262 MB +
6.9 x 8 bytes per cell) for these rows and for 10M x 20, against train_model's 3,008 MB. The 10M x 20 figure is an
extrapolation from the two runs (linear in the cells), not a measurement: a 10M x 20 training needs about 10 GB,
more than this shared machine should give one benchmark.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.results import write_section

ROWS = 500_000
TARGET_ROWS = 10_000_000
FEATURES = 20
LAMBDA_MB = 3008
MODEL = "bench"
COMMAND = "python -m benchmarks.bench_sagemaker_training"


def config_text() -> str:
    columns = "".join(f'[[models.{MODEL}.contract.columns]]\nname = "f{i}"\ntype = "float"\nmin = -10\nmax = 10\n\n'
                      for i in range(FEATURES))
    return (f'[models.{MODEL}]\ntask = "classification"\n\n[models.{MODEL}.training]\n'
            'families = ["logistic_regression"]\ncv_folds = 3\nbackend = "sagemaker"\n\n'
            f'[models.{MODEL}.contract]\ntarget = "label"\ntarget_values = ["yes", "no"]\npositive = "yes"\n'
            f"max_rows = 100000000\n\n{columns}"
            f"[models.{MODEL}.gates.bootstrap]\nsamples = 0\n")


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """20 standard-normal features (clipped to the contract's range) and a label linear in them plus noise."""
    rng = np.random.default_rng(seed)
    features = np.clip(rng.standard_normal((rows, FEATURES)), -10, 10)
    weights = rng.standard_normal(FEATURES)
    label = np.where(features @ weights + rng.standard_normal(rows) > 0, "yes", "no")
    table = pa.table({**{f"f{i}": features[:, i] for i in range(FEATURES)}, "label": label})
    pq.write_table(table, path, row_group_size=100_000)


def play(rows: int) -> tuple[dict[str, Any], float, Any]:
    """Drop ``rows`` rows and let the pipeline run: (the played job's timeline entry, seconds, version 1)."""
    from sluice.local import LocalCloud
    from sluice.registry import DynamoDBRegistry

    with tempfile.TemporaryDirectory(prefix="sluice-bench-sm-") as folder:
        root = Path(folder)
        (root / "sluice.toml").write_text(config_text())
        generate(root / "data.parquet", rows)
        with LocalCloud(root / "sluice.toml", functions_dir=Path(__file__).resolve().parents[1] / "functions") as cloud:
            started = time.perf_counter()
            cloud.drop(root / "data.parquet", MODEL)
            cloud.run_until_idle()
            elapsed = time.perf_counter() - started
            (job,) = [entry.detail for entry in cloud.timeline if entry.kind == "job"]
            version = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table).get_version(MODEL, 1)
    if job["status"] != "Completed":
        raise SystemExit(f"the training job did not complete: {job}")
    return job, elapsed, version


def main(rows: int = ROWS) -> None:
    from sluice.training.backend import estimate_mb

    columns = FEATURES + 1
    small_job, _, _ = play(rows // 4)
    job, elapsed, version = play(rows)
    small, peak = float(small_job["peak_rss_mb"]), float(job["peak_rss_mb"])
    slope = (peak - small) / ((rows - rows // 4) * columns)  # MB per cell, from the two runs
    extrapolated = peak + slope * (TARGET_ROWS - rows) * columns
    estimate = estimate_mb(rows, columns)
    target_estimate = estimate_mb(TARGET_ROWS, columns)
    base_mb = peak - slope * rows * columns  # the job's base as the two runs put it
    job_name = version.lineage.get("training_job", {}).get("name")
    table = [
        ("training job, measured (peak RSS of the job's process)", rows // 4, small),
        ("training job, measured (peak RSS of the job's process)", rows, peak),
        ("`auto`'s estimate, same rows (reference)", rows, estimate),
        ("10M rows, extrapolated from the measurement (not run)", TARGET_ROWS, extrapolated),
        ("10M rows, `auto`'s estimate", TARGET_ROWS, target_estimate),
    ]
    lines = "\n".join(f"| {what} | {count:,} x {columns} | {mb:,.0f} | {mb / LAMBDA_MB:.2f}x |"
                      for what, count, mb in table)
    body = (
        f"A {rows:,} x {FEATURES} (+ label) Parquet drop through validate_dataset and train_model with "
        '`backend = "sagemaker"`, the training job played by the local runtime in its own process (one family, '
        f"3 folds, no tuning).\n\n| | rows x columns | peak MB | vs train_model's {LAMBDA_MB} MB |\n"
        f"|---|---|---|---|\n{lines}\n\nMeasured / estimate at {rows:,} rows: {peak / estimate:.2f}. "
        f"The job ran {float(job['seconds']):.1f} s (drop to evaluated candidate {elapsed:.1f} s); version 1 "
        f"was `{version.status.value}`, its lineage naming the job `{job_name}`. By the measurement 10M x 20 "
        f"would need about {extrapolated / 1024:.1f} GB, {extrapolated / LAMBDA_MB:.1f}x what train_model has: the "
        "Lambda backend cannot train it, and `auto` sends it to a training job (an ml.m5.2xlarge has 32 GiB). "
        f"Extrapolated linearly from the two runs ({slope * 1024 * 1024:.1f} bytes per cell, a base of {base_mb:,.0f} "
        "MB); not measured at 10M rows on this machine.\n"
    )
    write_section("sagemaker_training", "Training on the sagemaker backend vs train_model's memory",
                  f"{COMMAND} {rows}" if rows != ROWS else COMMAND, body)
    print(body)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else ROWS)
