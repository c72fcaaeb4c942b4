"""score_batch: a file under ``score/<model>/[v<N>/]`` → every row scored by that version (default: live).

Writes ``scored/<model>/<file>-<digest>/v<N>/predictions.parquet`` (input columns, prediction, probabilities,
model_version, contract verdict per row) and ``report.json`` beside it, last: a duplicate delivery finds the report
and does nothing. A request sluice cannot serve (no live version, an unknown or untrained version, an unreadable
file) gets a report with the reason under ``scored/<model>/<file>-<digest>/``; the dropped file is never touched.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import pyarrow as pa

from sluice.artifacts import load_verified_model
from sluice.data import needs_seek
from sluice.data.batches import open_batches
from sluice.data.errors import DatasetReadError
from sluice.registry import ModelVersion, Status, VersionNotFoundError
from sluice.scoring.batch import BatchScorer, write_predictions
from sluice.scoring.jobs import PREDICTIONS_FILE, REPORT_FILE, ScoringJob
from sluice.scoring.keys import ScoreRequest, parse_score_key
from sluice.steps.context import StepContext
from sluice.steps.score_parts import plan_file, refused_report, start_job

UNSCORABLE = frozenset({Status.TRAINING, Status.FAILED})
LOCAL_COPY_MAX_BYTES = 2**30  # a Parquet file up to this is copied to /tmp (score_batch has 10 GB of it)
COPY_CHUNK = 2**20


@dataclass(frozen=True)
class PartsTarget:
    """The scoring state machine (its ARN and a Step Functions client) that scores large files in parts."""

    state_machine: str
    client: Any


def score_file(ctx: StepContext, key: str, *, etag: str, parts: PartsTarget | None = None) -> dict[str, Any]:
    """Score the object at ``key`` (its ``etag`` names the output); never raises for a bad request.

    With ``parts``, a file above ``[serving] batch_split_above_mb`` is planned into parts and handed to the
    scoring state machine (see steps/score_parts.py); without, or when it cannot be split, it is scored here."""
    key = ctx.data.stored_key(key)
    request = parse_score_key(key)
    if request is None or request.model not in ctx.config.models:
        return {"outcome": "ignored", "key": key, "reason": "not score/<configured model>/[v<N>/]<file>"}
    record, problem = _scoring_version(ctx, request)
    if record is None:
        return _refused(ctx, request, etag, problem)
    version = record.version
    prefix = request.output_prefix(version, etag)
    if ctx.data.exists(prefix + REPORT_FILE):
        return {"outcome": "already_scored", "model": request.model, "version": version, "report_key":
                prefix + REPORT_FILE}
    size: int | None = None  # known once a plan read it: the scoring then asks S3 for it no more
    if parts is not None:
        handed, size = _in_parts(ctx, request, record, etag, parts)
        if handed is not None:
            return handed
    model = load_verified_model(ctx.artifacts, request.model, version, record.artifact_sha256)
    scorer = BatchScorer(model, version)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        try:
            _write(ctx, key, scorer, output, size=size)
        except (DatasetReadError, pa.ArrowInvalid, pa.ArrowTypeError) as error:
            return _refused(ctx, request, etag, f"the file cannot be read: {error}")
        output.seek(0)
        ctx.data.put_file(prefix + PREDICTIONS_FILE, output, "application/vnd.apache.parquet")
    report = {"model": request.model, "version": version, "source": key, "etag": etag,
              "predictions_key": prefix + PREDICTIONS_FILE, **scorer.counts.to_dict(),
              "seconds": round(time.perf_counter() - started, 3)}
    ctx.data.put_json(prefix + REPORT_FILE, report)
    return {"outcome": "scored", **report, "report_key": prefix + REPORT_FILE}


def _scoring_version(ctx: StepContext, request: ScoreRequest) -> tuple[ModelVersion | None, str]:
    """The registry record of the version to score with (read once), or None and why not."""
    number = request.version
    if number is None:
        release = ctx.config.model(request.model).serving.batch_version == "release"
        if release and (releasing := ctx.registry.get_deployment(request.model)) is not None:
            number = releasing.version
        elif (live := ctx.registry.get_alias(request.model, "live")) is not None:
            number = live.version
        else:
            return None, f"{request.model} has no live version yet; name one: score/{request.model}/v<N>/<file>"
    try:
        record = ctx.registry.get_version(request.model, number)
    except VersionNotFoundError:
        return None, f"{request.model} has no version {number}"
    if record.status in UNSCORABLE:
        return None, f"{request.model} v{number} is {record.status.value}: it has no model to score with"
    return record, ""


def _write(ctx: StepContext, key: str, scorer: BatchScorer, output: BinaryIO, *, size: int | None) -> None:
    """Stream the dropped file through the scorer into Parquet at ``output`` (bounded memory)."""
    with _source(ctx, key, size) as source:
        if not write_predictions(scorer.score(open_batches(source, key)), output):
            raise DatasetReadError("the file holds no rows")


@contextmanager
def _source(ctx: StepContext, key: str, size: int | None) -> Iterator[BinaryIO]:
    """The dropped file to read: a stream, or for Parquet a seekable file — a local copy fetched in one GET up to
    LOCAL_COPY_MAX_BYTES (Arrow reads a column's pages 64 KiB at a time: hundreds of ranged GETs otherwise),
    ranged GETs on the object above (the copy and the predictions fit the function's /tmp). ``size``: the
    object's, when already known (else one HeadObject finds it)."""
    if not needs_seek(key):
        with closing(ctx.data.open_stream(key)) as stream:
            yield stream
        return
    if size is None or size > LOCAL_COPY_MAX_BYTES:
        ranged = ctx.data.open_ranged(key)
        if ranged.size > LOCAL_COPY_MAX_BYTES:
            with closing(ranged):
                yield cast(BinaryIO, ranged)
            return
        ranged.close()
    with tempfile.TemporaryFile() as local, closing(ctx.data.open_stream(key)) as stream:
        shutil.copyfileobj(stream, local, COPY_CHUNK)
        local.seek(0)
        yield cast(BinaryIO, local)


def _refused(ctx: StepContext, request: ScoreRequest, etag: str, reason: str) -> dict[str, Any]:
    return refused_report(ctx, request.folder(etag), request.model, request.key, etag, reason)


def _in_parts(ctx: StepContext, request: ScoreRequest, record: ModelVersion, etag: str,
              parts: PartsTarget) -> tuple[dict[str, Any] | None, int | None]:
    """Start the scoring state machine when the file is large enough to split: (its result, None); or (None, the
    file's size): score it here."""
    serving = ctx.config.model(request.model).serving
    try:
        plan = plan_file(ctx, request.key, serving)
    except DatasetReadError as error:
        return _refused(ctx, request, etag, f"the file cannot be read: {error}"), None
    if len(plan.parts) < 2:
        return None, plan.size
    job = ScoringJob(model=request.model, version=record.version, artifact_sha256=record.artifact_sha256,
                     source=request.key, etag=etag, prefix=request.output_prefix(record.version, etag),
                     parts=len(plan.parts), header_end=plan.header_end,
                     max_concurrency=serving.batch_max_concurrency)
    started = start_job(parts.client, parts.state_machine, job, plan)
    if started["outcome"] == "gave_up":
        return _refused(ctx, request, etag, started["reason"]), None
    return started, None
