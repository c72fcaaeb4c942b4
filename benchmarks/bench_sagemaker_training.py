"""Training on the sagemaker backend, played by the local stack, against the Lambda's memory: what the job's process
really peaks at, and where the time from drop to candidate goes.

Run: ``python -m benchmarks.bench_sagemaker_training [ROWS]`` (default 500,000 rows x 20 features). A generated
Parquet file is dropped under incoming/ and flows through the pipeline as any drop does: validate_dataset accepts
it, train_model (``backend = "sagemaker"``) starts a training job, the local runtime plays the job in its own
process (its own peak RSS, from ``wait4`` through ``sluice/local/own_peak.py``) and its end makes the version a
candidate, which evaluate_model then judges. It runs twice (ROWS / 4 and ROWS) to separate the job's base
(interpreter and libraries) from what grows with the cells; each function's seconds are summed from the timeline.
The reference, in the same run: the estimate ``auto`` decides with (``sluice.training.backend``) for these rows
and for 10M x 20, against train_model's 3,008 MB.

``--rows N`` (e.g. 10,000,000) measures one large training instead: the same drop (uploaded in parts, as S3
clients upload large files), validated by a processing job that validate_dataset starts, train_model
and the played job, stopped once train_model has handled the job's state change (the version is a candidate;
evaluation is not part of what it measures). Its section records the job's measured peak against train_model's
3,008 MB and Lambda's largest memory (10,240 MB), next to the extrapolation from the last ROWS / 4 and ROWS pair.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.results import RESULTS, write_section

ROWS = 500_000
TARGET_ROWS = 10_000_000
FEATURES = 20
LAMBDA_MB = 3008
LAMBDA_MAX_MB = 10_240
MODEL = "bench"
COMMAND = "python -m benchmarks.bench_sagemaker_training"
TRAIN_FUNCTION = "train_model"


def config_text(*, validation_job: bool = False) -> str:
    """The bench model; ``validation_job``: every drop is validated by a processing job (validate_dataset's path
    for drops above ``processing_job_above_mb``), reading the drop from its volume, not by ranged GETs."""
    data = f"[models.{MODEL}.data]\nprocessing_job_above_mb = 0.001\n\n" if validation_job else ""
    columns = "".join(f'[[models.{MODEL}.contract.columns]]\nname = "f{i}"\ntype = "float"\nmin = -10\nmax = 10\n\n'
                      for i in range(FEATURES))
    return (f'[models.{MODEL}]\ntask = "classification"\n\n[models.{MODEL}.training]\n'
            'families = ["logistic_regression"]\ncv_folds = 3\nbackend = "sagemaker"\n\n'
            f'[models.{MODEL}.contract]\ntarget = "label"\ntarget_values = ["yes", "no"]\npositive = "yes"\n'
            f"max_rows = 100000000\n\n{data}{columns}"
            f"[models.{MODEL}.gates.bootstrap]\nsamples = 0\n")


def generate(path: Path, rows: int, seed: int = 7, chunk: int = 1_000_000) -> None:
    """20 standard-normal features (clipped to the contract's range) and a label linear in them plus noise,
    written a million rows at a time (the generator's memory stays small whatever ``rows``)."""
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal(FEATURES)
    writer: pq.ParquetWriter | None = None
    try:
        for start in range(0, rows, chunk):
            count = min(chunk, rows - start)
            features = np.clip(rng.standard_normal((count, FEATURES)), -10, 10)
            label = np.where(features @ weights + rng.standard_normal(count) > 0, "yes", "no")
            table = pa.table({**{f"f{i}": features[:, i] for i in range(FEATURES)}, "label": label})
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=100_000)
    finally:
        if writer is not None:
            writer.close()


class CandidateReachedError(Exception):
    """train_model has handled the job's state change: the version is a candidate (``--rows`` stops here)."""


@dataclass(frozen=True)
class Run:
    rows: int
    job: dict[str, Any]
    seconds: float
    """From the drop to the end (idle, or the candidate with ``until_trained``)."""
    functions: dict[str, tuple[int, float]]
    """Per function: (invocations, seconds), from the timeline."""
    version: Any
    validation: dict[str, Any] | None = None
    """The processing job that validated the drop (``until_trained`` runs), as the timeline has it."""


def play(rows: int, *, until_trained: bool = False) -> Run:
    """Drop ``rows`` rows and let the pipeline run (until idle, or until train_model has made version 1 a
    candidate)."""
    from sluice.local import LocalCloud, TimelineEntry
    from sluice.registry import DynamoDBRegistry

    def stop_when_trained(entry: TimelineEntry) -> None:
        if until_trained and entry.kind == "invoke" and entry.name == TRAIN_FUNCTION \
                and entry.detail.get("outcome") == "trained":
            raise CandidateReachedError

    with tempfile.TemporaryDirectory(prefix="sluice-bench-sm-") as folder:
        root = Path(folder)
        (root / "sluice.toml").write_text(config_text(validation_job=until_trained))
        generate(root / "data.parquet", rows)
        functions_dir = Path(__file__).resolve().parents[1] / "functions"
        with LocalCloud(root / "sluice.toml", functions_dir=functions_dir, on_record=stop_when_trained) as cloud:
            started = time.perf_counter()
            if until_trained:  # a multipart upload, as any S3 client sends a large file (moto's single PUT of a
                # body is quadratic in its size: 100 MB take 16 s, 1.9 GB would take over an hour)
                cloud.clients.s3.upload_file(str(root / "data.parquet"), cloud.settings.data_bucket,
                                             f"incoming/{MODEL}/data.parquet")
            else:
                cloud.drop(root / "data.parquet", MODEL)
            (root / "data.parquet").unlink()  # the drop holds it now
            with contextlib.suppress(CandidateReachedError):
                cloud.run_until_idle()
            elapsed = time.perf_counter() - started
            jobs = [entry.detail for entry in cloud.timeline if entry.kind == "job"]
            validation = [job for job in jobs if job["kind"] == "Processing"]
            jobs = [job for job in jobs if job["kind"] == "Training"]
            functions: dict[str, list[float]] = defaultdict(list)
            for entry in cloud.timeline:
                if entry.kind == "invoke":
                    functions[entry.name].append(float(entry.detail.get("seconds", 0.0)))
            version = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table).get_version(MODEL, 1)
    if len(jobs) != 1 or jobs[0]["status"] != "Completed":
        raise SystemExit(f"the training job did not complete: {jobs}")
    return Run(rows, jobs[0], elapsed, {name: (len(times), sum(times)) for name, times in functions.items()},
               version, validation[0] if validation else None)


def step_seconds(run: Run) -> dict[str, float]:
    """Seconds per step from drop to the end: each function, the jobs, and the rest (the local stack)."""
    steps = {"training job (its own process)": float(run.job["seconds"])}
    if run.validation:
        steps["validation processing job (its own process)"] = float(run.validation["seconds"])
    steps.update({f"`{name}` x {count}": seconds for name, (count, seconds) in
                  sorted(run.functions.items(), key=lambda item: -item[1][1])})
    steps["the local stack's dispatch (moto, queues, staging the job)"] = run.seconds - sum(steps.values())
    return steps


def time_table(run: Run) -> str:
    """Where the seconds from drop to the end went."""
    return "\n".join(f"| {what} | {seconds:,.1f} | {seconds / run.seconds:.0%} |"
                      for what, seconds in step_seconds(run).items())


def growth_table(small: Run, large: Run) -> str:
    """Each step's seconds at both sizes and how much they grew, against the rows' growth."""
    before = {re.sub(r" x \d+$", "", what): seconds for what, seconds in step_seconds(small).items()}
    lines = []
    for what, seconds in step_seconds(large).items():
        earlier = before.get(re.sub(r" x \d+$", "", what), 0.0)
        grew = f"{seconds / earlier:.1f}x" if earlier > 0.05 else "-"
        lines.append(f"| {what} | {earlier:,.1f} | {seconds:,.1f} | {grew} |")
    return "\n".join(lines)


def pair(rows: int) -> None:
    """The ROWS / 4 and ROWS runs through the whole pipeline: base and slope of the job's peak, time per step."""
    from sluice.training.backend import estimate_mb

    columns = FEATURES + 1
    small_run, run = play(rows // 4), play(rows)
    small, peak = float(small_run.job["peak_rss_mb"]), float(run.job["peak_rss_mb"])
    slope = (peak - small) / ((rows - rows // 4) * columns)  # MB per cell, from the two runs
    extrapolated = peak + slope * (TARGET_ROWS - rows) * columns
    estimate = estimate_mb(rows, columns)
    target_estimate = estimate_mb(TARGET_ROWS, columns)
    base_mb = peak - slope * rows * columns  # the job's base as the two runs put it
    job_name = run.version.lineage.get("training_job", {}).get("name")
    table = [
        ("training job, measured (peak RSS of the job's process)", rows // 4, small),
        ("training job, measured (peak RSS of the job's process)", rows, peak),
        ("`auto`'s estimate, same rows (reference)", rows, estimate),
        ("10M rows, extrapolated from the measurement", TARGET_ROWS, extrapolated),
        ("10M rows, `auto`'s estimate", TARGET_ROWS, target_estimate),
    ]
    lines = "\n".join(f"| {what} | {count:,} x {columns} | {mb:,.0f} | {mb / LAMBDA_MB:.2f}x |"
                      for what, count, mb in table)
    body = (
        f"A {rows:,} x {FEATURES} (+ label) Parquet drop through validate_dataset and train_model with "
        '`backend = "sagemaker"`, the training job played by the local runtime in its own process (one family, '
        f"3 folds, no tuning).\n\n| | rows x columns | peak MB | vs train_model's {LAMBDA_MB} MB |\n"
        f"|---|---|---|---|\n{lines}\n\nMeasured / estimate at {rows:,} rows: {peak / estimate:.2f}. "
        f"Version 1 was `{run.version.status.value}`, its lineage naming the job `{job_name}`. Linear in the "
        f"cells from the two runs: {slope * 1024 * 1024:.1f} bytes per cell over a base of {base_mb:,.0f} MB; "
        f"10M x 20 by that line: {extrapolated / 1024:.1f} GB, {extrapolated / LAMBDA_MB:.1f}x train_model's "
        f"memory (`--rows 10000000` measures it: next section).\n\n"
        f"Where the seconds from drop to the end of the pipeline went ({small_run.seconds:,.1f} s at "
        f"{rows // 4:,} rows, {run.seconds:,.1f} s at {rows:,}; the rows grew {rows / (rows // 4):.0f}x):\n\n"
        f"| step | seconds at {rows // 4:,} | seconds at {rows:,} | grew |\n|---|---|---|---|\n"
        f"{growth_table(small_run, run)}\n\n"
        "A step that grows faster than the rows scales badly. validate_dataset reads a Parquet drop through ranged "
        "GETs (`data/parquet_io.py`, `storage/ranged.py`); on moto every ranged GET copies the whole "
        "object (`FakeKey.value`), so on the local stack its time grows with the size squared (on AWS a ranged "
        "GET returns its range, and the number of GETs grows with the size). The training job includes staging "
        "its channel (the player's download from moto).\n"
    )
    write_section("sagemaker_training", "Training on the sagemaker backend vs train_model's memory",
                  f"{COMMAND} {rows}" if rows != ROWS else COMMAND, body)
    print(body)


def recorded_line() -> tuple[float, float, str] | None:
    """(base MB, bytes per cell, commit) of the pair's section in RESULTS.md, if it is there."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    section = re.search(r"<!-- bench:sagemaker_training -->.*?Commit: `(\w+)`.*?([\d.]+) bytes per cell over a "
                        r"base of ([\d,]+) MB", text, re.S)
    if section is None:
        return None
    return float(section.group(3).replace(",", "")), float(section.group(2)), section.group(1)


def large(rows: int) -> None:
    """One measured training of ``rows`` rows through the sagemaker backend, up to the candidate."""
    from sluice.training.backend import estimate_mb

    columns = FEATURES + 1
    run = play(rows, until_trained=True)
    peak = float(run.job["peak_rss_mb"])
    line = recorded_line()
    predicted = (f"the 125k/500k line recorded above (commit `{line[2]}`: {line[0]:,.0f} MB + {line[1]:.1f} bytes "
                 f"per cell) predicted {line[0] + line[1] * rows * columns / 2**20:,.0f} MB"
                 if line else "no 125k/500k line is recorded")
    body = (
        f"One {rows:,} x {FEATURES} (+ label) Parquet drop, measured, not extrapolated: validate_dataset had it "
        "validated by a processing job (`processing_job_above_mb = 0.001`: the same validator, reading the drop from "
        "the job's volume; validate_dataset's own ranged reads are quadratic on moto, see above) and accepted it, "
        f'train_model (`backend = "sagemaker"`) started the job, the local runtime played `sluice.jobs.train` '
        "in its own process, and train_model handled its state change (the run stops there: version 1 "
        f"`{run.version.status.value}`).\n\n| | MB | vs train_model's {LAMBDA_MB:,} MB | vs Lambda's largest, "
        f"{LAMBDA_MAX_MB:,} MB |\n|---|---|---|---|\n"
        f"| training job, measured (peak RSS of the job's process) | {peak:,.0f} | {peak / LAMBDA_MB:.2f}x | "
        f"{peak / LAMBDA_MAX_MB:.2f}x |\n"
        f"| `auto`'s estimate (reference) | {estimate_mb(rows, columns):,.0f} | "
        f"{estimate_mb(rows, columns) / LAMBDA_MB:.2f}x | {estimate_mb(rows, columns) / LAMBDA_MAX_MB:.2f}x |\n\n"
        f"Measured / estimate: {peak / estimate_mb(rows, columns):.2f}; {predicted}. The job ran "
        f"{float(run.job['seconds']):,.1f} s, {run.seconds:,.1f} s from the drop to the candidate. "
        + (f"It {'fits' if peak <= LAMBDA_MAX_MB else 'does not fit'} in Lambda's largest function "
           f"({LAMBDA_MAX_MB:,} MB) with {LAMBDA_MAX_MB - peak:,.0f} MB to spare, " if peak <= LAMBDA_MAX_MB else
           f"It would not fit even Lambda's largest function ({LAMBDA_MAX_MB:,} MB), ")
        + f"and needs {peak / LAMBDA_MB:.1f}x train_model's {LAMBDA_MB:,} MB"
        + (": past train_model's memory, `auto` sends it to a training job." if peak > LAMBDA_MB else
           ": within train_model's memory.")
        + (f" The validation job peaked at {float(run.validation['peak_rss_mb']):,.0f} MB." if run.validation else "")
        + f"\n\n| step | seconds | share |\n|---|---|---|\n{time_table(run)}\n"
    )
    write_section(f"sagemaker_training_{rows}", f"Training {rows:,} rows on the sagemaker backend, measured",
                  f"{COMMAND} --rows {rows}", body)
    print(body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pair_rows", nargs="?", type=int, default=ROWS, help="the pair's larger run (default 500k)")
    parser.add_argument("--rows", type=int, help="measure one training of this many rows, up to the candidate")
    arguments = parser.parse_args(argv)
    if arguments.rows:
        large(arguments.rows)
    else:
        pair(arguments.pair_rows)


if __name__ == "__main__":
    main()
