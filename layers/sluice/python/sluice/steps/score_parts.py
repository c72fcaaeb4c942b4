"""Batch scoring in parts: plan a large file's parts, score one part, merge the parts (the scoring state machine).

score_batch plans and starts one execution per (object, version); the Distributed Map runs ``score_part`` once
per part and then ``merge_parts``. Every write is idempotent: a part's rows and then its counts under
deterministic keys (a retried part finds its counts and does nothing), and the merge writes predictions.parquet
and report.json — the single-Lambda path's files, same columns, rows in input order — report last.
"""

from __future__ import annotations

import json
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from typing import Any, BinaryIO, cast

import pyarrow as pa
import pyarrow.parquet as pq

from sluice.artifacts import load_verified_model
from sluice.config.model import ServingSettings
from sluice.data.batches import open_batches
from sluice.data.errors import DatasetReadError
from sluice.data.formats import Format, detect_kind
from sluice.data.parquet_io import BATCH_ROWS
from sluice.scoring.batch import BatchScorer, ScoreCounts, write_predictions
from sluice.scoring.jobs import PREDICTIONS_FILE, REPORT_FILE, ScoringJob
from sluice.scoring.part_source import READ_SIZE, parquet_part, read_part
from sluice.scoring.parts import Part, Plan, plan_delimited, plan_lines, plan_row_groups
from sluice.steps.context import StepContext
from sluice.storage.ranged import RangedObject

MB = 1024 * 1024
PROBE = 64 * 1024
MAX_ATTEMPTS = 5
"""Executions one file's scoring may start before score_batch stops starting more (each ended without a result)."""
ENDED_WITHOUT_RESULT = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
EXECUTION_NAME_MAX = 80


def plan_file(ctx: StepContext, key: str, serving: ServingSettings) -> Plan:
    """The parts of the file at ``key``, or none (and why) when it is small enough, gzip or not splittable; the
    plan carries the file's size."""
    with closing(ctx.data.open_ranged(key)) as ranged:
        return replace(_plan(ctx, key, serving, ranged), size=ranged.size)


def _plan(ctx: StepContext, key: str, serving: ServingSettings, ranged: RangedObject) -> Plan:
    size = ranged.size
    if size <= serving.batch_split_above_mb * MB:
        return Plan((), reason="small enough for one worker")
    kind = detect_kind(key)
    part_bytes = max(1, int(serving.batch_part_mb * MB))
    if kind.gzipped:
        return Plan((), reason="a gzip stream cannot be cut: one worker scores it")
    if kind.format is Format.PARQUET:
        try:
            metadata = pq.ParquetFile(ranged).metadata
        except (pa.ArrowException, OSError) as error:
            raise DatasetReadError(f"not a readable Parquet file: {error}") from error
        sizes = [sum(metadata.row_group(group).column(column).total_compressed_size
                     for column in range(metadata.num_columns)) for group in range(metadata.num_row_groups)]
        return plan_row_groups(sizes, part_bytes=part_bytes)
    if kind.format is Format.JSONL:
        lines = cast(BinaryIO, ranged)
        return plan_lines(lambda offset: _newline_after(lines, offset), size=size, part_bytes=part_bytes)
    delimiter = b"\t" if kind.format is Format.TSV else b","
    with closing(ctx.data.open_stream(key)) as stream:
        return plan_delimited(iter(lambda: stream.read(READ_SIZE), b""), size=size, part_bytes=part_bytes,
                              delimiter=delimiter)


def _newline_after(file: BinaryIO, offset: int) -> int | None:
    while True:
        file.seek(offset)
        window = file.read(PROBE)
        if not window:
            return None
        found = window.find(b"\n")
        if found >= 0:
            return offset + found
        offset += len(window)


def start_job(stepfunctions: Any, state_machine: str, job: ScoringJob, plan: Plan) -> dict[str, Any]:
    """Start the job's execution. A duplicate start (same name) is Step Functions' to refuse and starts nothing;
    when the execution of that name ended without a result (failed, timed out or aborted) the next attempt's
    execution starts under its own name (the parts already scored are not scored again), up to MAX_ATTEMPTS."""
    document = json.dumps({"job": job.to_dict(), "parts": [part.to_dict() for part in plan.parts]})
    for attempt in range(1, MAX_ATTEMPTS + 1):
        name = attempt_name(job.execution_name, attempt)
        try:
            started = stepfunctions.start_execution(stateMachineArn=state_machine, name=name, input=document)
        except stepfunctions.exceptions.ExecutionAlreadyExists:
            status = stepfunctions.describe_execution(executionArn=execution_arn(state_machine, name))["status"]
            if status in ENDED_WITHOUT_RESULT:
                continue
            return {"outcome": "already_scoring", "model": job.model, "version": job.version, "execution": name,
                    "status": status}
        return {"outcome": "scoring_in_parts", "model": job.model, "version": job.version,
                "parts": len(plan.parts), "execution": started["executionArn"], "attempt": attempt}
    return {"outcome": "gave_up", "model": job.model, "version": job.version, "execution": job.execution_name,
            "reason": f"the scoring ended without a result {MAX_ATTEMPTS} times; see the executions' history"}


def attempt_name(name: str, attempt: int) -> str:
    """The execution name of ``attempt`` (the first keeps the job's name; Step Functions allows 80 characters)."""
    if attempt == 1:
        return name
    suffix = f"-a{attempt}"
    return name[-(EXECUTION_NAME_MAX - len(suffix)):] + suffix


def execution_arn(state_machine: str, name: str) -> str:
    """The ARN of the execution ``name`` of ``state_machine`` (arn:…:states:…:stateMachine:M → …:execution:M:name)."""
    return state_machine.replace(":stateMachine:", ":execution:", 1) + ":" + name


def score_part(ctx: StepContext, job: ScoringJob, part: Part) -> dict[str, Any]:
    """Score one part into its deterministic keys (rows, then counts); a part already counted is not redone."""
    done = job.part_done_key(part.index)
    if ctx.data.exists(done):
        return {"outcome": "already_scored", "part": part.index}
    started = time.perf_counter()
    model = load_verified_model(ctx.artifacts, job.model, job.version, job.artifact_sha256)
    scorer = BatchScorer(model, job.version)
    counts: dict[str, Any]
    with tempfile.TemporaryFile() as output:
        try:
            written = write_predictions(scorer.score(_part_batches(ctx, job, part)), output)
            output.seek(0)
            if written:
                ctx.data.put_file(job.part_key(part.index), output, "application/vnd.apache.parquet")
            counts = {**scorer.counts.to_part(), "written": bool(written)}
        except (DatasetReadError, pa.ArrowInvalid, pa.ArrowTypeError) as error:
            counts = {"error": str(error)}
    ctx.data.put_json(done, {**counts, "seconds": round(time.perf_counter() - started, 3), "peak_mb": peak_mb()})
    return {"outcome": "scored" if "error" not in counts else "unreadable", "part": part.index,
            "rows": counts.get("rows", 0)}


def peak_mb() -> float:
    """This process's peak resident memory so far (what Lambda reports as Max Memory Used), in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _part_batches(ctx: StepContext, job: ScoringJob, part: Part) -> Iterator[pa.RecordBatch]:
    # pinned to the scored content (If-Match takes the quoted ETag): an object replaced meanwhile fails the part
    pinned = f'"{job.etag.strip(chr(34))}"' if job.etag else ""
    ranged = cast(BinaryIO, ctx.data.open_ranged(job.source, etag=pinned))
    with closing(ranged):
        if part.row_groups:
            with tempfile.TemporaryFile() as span, tempfile.TemporaryFile() as tail:
                held = parquet_part(ranged, part.row_groups, cast(BinaryIO, span), cast(BinaryIO, tail))
                yield from open_batches(held, job.source, row_groups=part.row_groups)
            return
        with closing(read_part(ranged, job.header_end, part.start, part.end)) as source:
            yield from open_batches(source, job.source)


def merge_parts(ctx: StepContext, job: ScoringJob) -> dict[str, Any]:
    """The parts' rows, in order, as predictions.parquet, and report.json (last) with the totals and each part's."""
    report_key = job.prefix + REPORT_FILE
    if ctx.data.exists(report_key):
        return {"outcome": "already_scored", "model": job.model, "version": job.version, "report_key": report_key}
    started = time.perf_counter()
    parts = [ctx.data.get_json(job.part_done_key(index)) for index in range(job.parts)]
    unreadable = [(index, part["error"]) for index, part in enumerate(parts) if "error" in part]
    if unreadable:
        index, error = unreadable[0]
        return _refused(ctx, job, f"the file cannot be read: part {index}: {error}")
    if not any(part["rows"] for part in parts):
        return _refused(ctx, job, "the file cannot be read: the file holds no rows")
    with tempfile.TemporaryFile() as output:
        try:
            write_predictions(_part_tables(ctx, job, parts), output)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            return _refused(ctx, job, f"the file cannot be read: {error}")
        output.seek(0)
        ctx.data.put_file(job.prefix + PREDICTIONS_FILE, output, "application/vnd.apache.parquet")
    counts = ScoreCounts.added(parts)
    report = {"model": job.model, "version": job.version, "source": job.source, "etag": job.etag,
              "predictions_key": job.prefix + PREDICTIONS_FILE, **counts.to_dict(),
              "seconds": round(time.perf_counter() - started + sum(part["seconds"] for part in parts), 3),
              "parts": [{"part": index, **ScoreCounts.added([part]).to_dict(), "seconds": part["seconds"],
                         "peak_mb": part.get("peak_mb")} for index, part in enumerate(parts)]}
    ctx.data.put_json(report_key, report)
    return {"outcome": "scored", **{key: value for key, value in report.items() if key != "parts"},
            "parts": len(parts), "report_key": report_key}


def _part_tables(ctx: StepContext, job: ScoringJob, parts: list[dict[str, Any]]) -> Iterator[pa.Table]:
    for index, part in enumerate(parts):
        if not part.get("written"):
            continue
        with tempfile.TemporaryFile() as local, closing(ctx.data.open_stream(job.part_key(index))) as stream:
            shutil.copyfileobj(stream, local, READ_SIZE)
            for batch in pq.ParquetFile(local).iter_batches(batch_size=BATCH_ROWS, use_threads=False):
                yield pa.Table.from_batches([batch])


def _refused(ctx: StepContext, job: ScoringJob, reason: str) -> dict[str, Any]:
    folder = job.prefix.rstrip("/").rsplit("/", 1)[0] + "/"
    return refused_report(ctx, folder, job.model, job.source, job.etag, reason)


def refused_report(ctx: StepContext, folder: str, model: str, source: str, etag: str, reason: str) -> dict[str, Any]:
    """The report of a file that cannot be scored, in its object's folder (no version: none scored it)."""
    report = {"model": model, "source": source, "etag": etag, "outcome": "refused", "reason": reason}
    ctx.data.put_json(folder + REPORT_FILE, report)
    return {**report, "report_key": folder + REPORT_FILE}
