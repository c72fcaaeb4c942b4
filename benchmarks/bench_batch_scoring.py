"""Batch scoring in parts on the local stack vs scikit-learn predict_proba in one process, on the same rows.

A model ``bench`` (20 numeric features, a binary label) is trained by sluice's own pipeline on the local stack
(drop → validate → train → evaluate → deploy, against a moto server) from a sample; then a Parquet file of
``--rows`` rows is dropped under ``score/bench/`` and scored through the scoring state machine: its Distributed Map
played by the runtime with worker processes (at most ``batch_max_concurrency``), then the merge. The same file is
then scored in one process twice: by ``score_file`` (the single-Lambda path: read from and written to S3 on the
moto server) and by ``BatchScorer`` alone on the local file (no S3). Recorded: rows/s of each (the parts: from the
drop's dispatch to the merged report), next to ``predict_proba`` of the same fitted pipeline (the version's pickled
pipeline) on the same rows in one process, data already in memory; and the workers' peak memory.

Run: ``python -m benchmarks.bench_batch_scoring --rows 10000000`` (records into RESULTS.md; commit first).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks._moto import _free_port
from benchmarks.results import spread, write_section

FEATURES = [f"f{index:02d}" for index in range(20)]
MODEL = "bench"
ROW_GROUP = 250_000
CONCURRENCY = 2  # the machine's cores: more workers only share them
COLUMN = '[[models.bench.contract.columns]]\nname = "{name}"\ntype = "float"\n'
CONFIG = """
[models.bench]
task = "classification"

[models.bench.training]
families = ["hist_gradient_boosting"]
cv_folds = 3
holdout_fraction = 0.2
seed = 7

[models.bench.training.tuning]
trials = 2

[models.bench.gates]
primary_metric = "roc_auc"
min_metrics = { roc_auc = 0.6 }

[models.bench.serving]
on_violation = "flag"
batch_split_above_mb = PART_MB
batch_part_mb = PART_MB
batch_max_concurrency = CONCURRENCY

[models.bench.contract]
target = "label"
target_values = ["yes", "no"]
positive = "yes"
min_rows = 100

"""


def rows(count: int, seed: int) -> pd.DataFrame:
    """``count`` rows: 20 features (3 decimals) and a label from a noisy linear rule with one interaction."""
    generator = np.random.default_rng(seed)
    features = np.round(generator.normal(size=(count, len(FEATURES))), 3)
    score = features[:, :5] @ np.array([1.0, -0.8, 0.6, 0.4, -0.3]) + features[:, 5] * features[:, 6]
    label = np.where(score + generator.normal(scale=1.0, size=count) > 0, "yes", "no")
    frame = pd.DataFrame(features, columns=FEATURES)
    frame["label"] = label
    return frame


def write_file(path: Path, count: int) -> None:
    """The file to score, written 1M rows at a time (no label: a client's file)."""
    writer: pq.ParquetWriter | None = None
    for start in range(0, count, 1_000_000):
        table = pa.Table.from_pandas(
            rows(min(1_000_000, count - start), seed=start + 1)[FEATURES], preserve_index=False
        )
        writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table, row_group_size=ROW_GROUP)
    assert writer is not None
    writer.close()


def score_in_one_process(cloud: Any, path: Path, version: int, number: int) -> tuple[float, float]:
    """Seconds to score ``path`` in this process by ``score_file`` (S3 in and out) and by ``BatchScorer`` alone
    (round ``number``: its own key, since a file already scored is not scored again)."""
    from sluice.artifacts import load_verified_model
    from sluice.data.batches import open_batches
    from sluice.scoring.batch import BatchScorer
    from sluice.steps.context import StepContext
    from sluice.steps.score import score_file

    bucket = cloud.settings.data_bucket
    key = f"score/{MODEL}/single-r{number}-{path.name}"
    cloud.clients.s3.upload_file(str(path), bucket, key)
    etag = cloud.clients.s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
    ctx = StepContext.from_env()
    started = time.perf_counter()
    result = score_file(ctx, key, etag=etag, parts=None)
    single = time.perf_counter() - started
    assert result["outcome"] == "scored", result
    record = ctx.registry.get_version(MODEL, version)
    scorer = BatchScorer(load_verified_model(ctx.artifacts, MODEL, version, record.artifact_sha256), version)
    started = time.perf_counter()
    with path.open("rb") as file:
        for _ in scorer.score(open_batches(file, path.name)):
            pass
    in_memory = time.perf_counter() - started
    assert scorer.counts.rows == result["rows"], (scorer.counts, result)
    return single, in_memory


def model_alone(onnx_bytes: bytes, frame: pd.DataFrame, chunk: int = 250_000) -> float:
    """Seconds for ONNX Runtime (one thread) to run the served model on ``frame``'s rows, already in memory, in
    chunks of ``chunk`` rows: what any worker's model run costs, with no reading, checking or writing."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    types = {"tensor(float)": np.float32, "tensor(double)": np.float64}
    inputs = session.get_inputs()
    if any(item.type not in types for item in inputs):
        raise SystemExit(f"the model's inputs are not all numeric: {[(item.name, item.type) for item in inputs]}")
    started = time.perf_counter()
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start : start + chunk]
        if len(inputs) == 1:
            feed = {inputs[0].name: part[FEATURES].to_numpy(types[inputs[0].type])}
        else:
            feed = {item.name: part[item.name].to_numpy(types[item.type]).reshape(-1, 1) for item in inputs}
        session.run(None, feed)
    return time.perf_counter() - started


def parts_round(cloud: Any, scored_file: Path, number: int) -> tuple[float, dict[str, Any]]:
    """Seconds from dropping round ``number``'s copy of the file under score/ to its merged report, and the report."""
    bucket = cloud.settings.data_bucket
    name = f"to-score-r{number}"
    cloud.clients.s3.upload_file(str(scored_file), bucket, f"score/{MODEL}/{name}.parquet")
    started = time.perf_counter()
    cloud.run_until_idle()
    seconds = time.perf_counter() - started
    listed = cloud.clients.s3.list_objects_v2(Bucket=bucket, Prefix=f"scored/{MODEL}/")["Contents"]
    report_key = next(item["Key"] for item in listed if item["Key"].endswith("/report.json") and name in item["Key"])
    report: dict[str, Any] = json.loads(cloud.clients.s3.get_object(Bucket=bucket, Key=report_key)["Body"].read())
    return seconds, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--part-mb", type=float, default=32.0, help="batch_part_mb (files above it are split)")
    parser.add_argument("--rounds", type=int, default=3, help="each path measured this many times (spread)")
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from sluice.artifacts import MODEL_FILE, PIPELINE_FILE
    from sluice.local import LocalCloud, ScriptedMeter
    from sluice.local.aws_server import AwsServer
    from sluice.storage.keys import model_artifact_key

    server = AwsServer(_free_port()).start()  # `sluice local`'s embedded AWS: moto taught composite alarms
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sluice-bench-scoring-") as tmp:
        endpoint = server.url
        folder = Path(tmp)
        config = folder / "sluice.toml"
        settings = CONFIG.replace("= CONCURRENCY", f"= {CONCURRENCY}").replace("= PART_MB", f"= {args.part_mb}")
        config.write_text(settings + "\n".join(COLUMN.format(name=name) for name in FEATURES))
        cloud = LocalCloud(config, endpoint_url=endpoint, meter=ScriptedMeter()).start()
        try:
            rows(20_000, seed=0).to_csv(folder / "sample.csv", index=False)
            cloud.drop(folder / "sample.csv", MODEL)
            cloud.run_until_idle()
            scored_file = folder / "to-score.parquet"
            write_file(scored_file, args.rows)
            file_mb = scored_file.stat().st_size / 2**20
            for number in range(1, args.rounds + 1):
                seconds, report = parts_round(cloud, scored_file, number)
                assert report.get("rows") == args.rows, report
                if "parts" not in report:
                    raise SystemExit(
                        f"the file ({file_mb:,.1f} MB, {args.rows:,} rows) was scored whole, not in parts: "
                        f"a split needs at least two row groups ({2 * ROW_GROUP:,} rows) and a file above "
                        f"--part-mb ({args.part_mb:g})"
                    )
                single, in_memory = score_in_one_process(cloud, scored_file, report["version"], number)
                rounds.append({"parts": seconds, "single": single, "in_memory": in_memory, "report": report})
                print(
                    f"round {number}: parts {seconds:.1f} s, score_file {single:.1f} s, BatchScorer {in_memory:.1f} s",
                    flush=True,
                )
            version = report["version"]
            pipeline = pickle.loads(
                cloud.clients.s3.get_object(
                    Bucket=cloud.settings.artifact_bucket,
                    Key=model_artifact_key(MODEL, version, PIPELINE_FILE),
                )["Body"].read()
            )
            onnx_bytes = cloud.clients.s3.get_object(
                Bucket=cloud.settings.artifact_bucket,
                Key=model_artifact_key(MODEL, version, MODEL_FILE),
            )["Body"].read()
        finally:
            cloud.stop()
            server.stop()
        frame = pq.read_table(scored_file).to_pandas()
        for number, measured in enumerate(rounds, start=1):
            reference_started = time.perf_counter()
            pipeline.predict_proba(frame[FEATURES])
            measured["reference"] = time.perf_counter() - reference_started
            measured["alone"] = model_alone(onnx_bytes, frame)
            print(
                f"round {number}: predict_proba {measured['reference']:.1f} s, model alone {measured['alone']:.1f} s",
                flush=True,
            )
    body = report_body(args, rounds, file_mb, version)
    print(body)
    if not args.no_record:
        write_section(
            "batch-scoring",
            "Batch scoring in parts (Distributed Map on the local stack)",
            f"python -m benchmarks.bench_batch_scoring --rows {args.rows} --part-mb {args.part_mb:g}",
            body,
        )


def report_body(args: argparse.Namespace, rounds: list[dict[str, Any]], file_mb: float, version: int) -> str:
    """The section: each path's median seconds and rows/s, and its ratio to the reference of the same round as
    median (min-max) over the rounds."""

    def row(label: str, path: str) -> str:
        seconds = statistics.median(measured[path] for measured in rounds)
        ratios = [measured["reference"] / measured[path] for measured in rounds]
        return f"| {label} | {seconds:.1f} | {args.rows / seconds:,.0f} | {spread(ratios, 'x', 3)} |"

    parts_ratios = [measured["reference"] / measured["parts"] for measured in rounds]
    per_core = statistics.median(measured["reference"] / measured["alone"] for measured in rounds)
    reports = [measured["report"] for measured in rounds]
    peaks = [part["peak_mb"] for report in reports for part in report["parts"]]
    reference = statistics.median(measured["reference"] for measured in rounds)
    cores = os.cpu_count() or 1
    return "\n".join(
        [
            f"{args.rows:,} rows x {len(FEATURES)} features (Parquet, {file_mb:,.0f} MB), model `{MODEL}` "
            f"v{version} trained by sluice's pipeline "
            f"(hist_gradient_boosting) on a 20,000-row sample on the local stack. {len(rounds)} rounds, each every "
            "path then the reference; seconds are medians, a ratio pairs a path with the reference of its own "
            "round: median (min-max) over the rounds, the spread a rerun is held to.",
            "",
            "| path | seconds | rows/s | ratio to reference |",
            "|---|---|---|---|",
            row(
                f"sluice, {len(reports[0]['parts'])} parts, MaxConcurrency {CONCURRENCY} "
                "(worker processes, moto server)",
                "parts",
            ),
            row(
                "sluice, one process: `score_file` (the single-Lambda path, S3 in and out on the moto server)", "single"
            ),
            row("sluice, one process: `BatchScorer` on the local file (no S3)", "in_memory"),
            row(
                "the served model alone: ONNX Runtime, one thread, rows in memory (no reading, checking, writing)",
                "alone",
            ),
            f"| reference: scikit-learn `predict_proba`, one process, rows in memory | {reference:.1f} "
            f"| {args.rows / reference:,.0f} | 1x |",
            "",
            f"The ceiling of any parallel path on this machine: {cores} cores x {per_core:.2f} (the model run alone "
            f"against the reference, per core, median) = {cores * per_core:.2f}x, with nothing read, checked or "
            "written.",
            "",
            f"Workers' peak memory (per part, max RSS of the worker process): max {max(peaks):,.0f} MB, "
            f"min {min(peaks):,.0f} MB. Rows scored {sum(report['scored'] for report in reports):,} "
            f"({len(reports)} x {args.rows:,}), flagged {sum(report['flagged'] for report in reports):,}, refused "
            f"{sum(report['refused'] for report in reports):,}. Goal >= 3x the reference (parallel workers included): "
            f"{'met' if statistics.median(parts_ratios) >= 3 else 'not met'}. "
            f"Load average at the end: {' '.join(f'{load:.1f}' for load in os.getloadavg())} "
            f"on {os.cpu_count()} CPUs (a machine shared with other work).",
        ]
    )


if __name__ == "__main__":
    main()
