"""validate_dataset: accept a drop as a content-addressed data version, or quarantine it."""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
from contextlib import closing
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from botocore.exceptions import BotoCoreError, ClientError

from sluice.clock import iso
from sluice.config import ConfigError, DataContract
from sluice.data import Verdict, check_file, needs_seek
from sluice.events import DetailType
from sluice.registry import DatasetRecord
from sluice.steps.context import StepContext
from sluice.storage import (
    IncomingObject,
    accepted_data_key,
    accepted_manifest_key,
    parse_incoming_key,
    rejected_prefix,
)

NORMALIZED_CONTENT_TYPE = "application/vnd.apache.parquet"
SOURCE_ERRORS = (OSError, BotoCoreError, ClientError)
"""Errors reading the dropped object itself (S3, the network): raised, so the event is retried; the file is not
judged. Every other error while validating becomes a rejection with a report (check_file already turns every
parser error into an ``unreadable`` issue; what is left is a fault of sluice, still reported, never raised)."""
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DroppedObject:
    """The object an S3 "Object Created" event names."""

    bucket: str
    key: str
    etag: str
    size: int
    version_id: str = ""  # the object version (versioned buckets): tells a re-upload from a rerun


def validate_drop(ctx: StepContext, dropped: DroppedObject) -> dict[str, Any]:
    """Validate one dropped object, streamed from S3 in bounded memory; bad data is quarantined, never raised."""
    if dropped.bucket != ctx.data.bucket:
        return {"outcome": "ignored", "reason": f"bucket {dropped.bucket} is not the data bucket"}
    dropped = dataclasses.replace(dropped, key=ctx.data.stored_key(dropped.key))
    drop = parse_incoming_key(dropped.key)
    if drop is None:
        return {"outcome": "ignored", "reason": f"{dropped.key} is not under incoming/<model>/"}
    correlation_id = drop.drop_id(dropped.etag)
    try:
        model = ctx.config.model(drop.model)
    except ConfigError as error:
        return _quarantine(ctx, dropped, drop, correlation_id, _failure_report("unknown_model", str(error)))
    with tempfile.TemporaryFile() as sink:
        try:
            verdict = _check(ctx, dropped, model.contract, sink)
        except SOURCE_ERRORS:
            raise
        except Exception as error:  # never raised: the drop is quarantined with the reason, as bad data is
            logger.exception("validation of %s could not complete", dropped.key)
            message = (f"validation could not complete ({type(error).__name__}: {error}); the file is kept "
                       "unchanged and can be dropped again")
            return _quarantine(ctx, dropped, drop, correlation_id, _failure_report("validation_error", message))
        if not verdict.accepted or verdict.data_version is None:
            return _quarantine(ctx, dropped, drop, correlation_id, verdict.to_dict())
        return _accept(ctx, dropped, drop, correlation_id, verdict, sink)


def _check(ctx: StepContext, dropped: DroppedObject, contract: DataContract, sink: BinaryIO) -> Verdict:
    """The verdict on the dropped object, streamed from S3 (ranged reads for Parquet), its normalized rows to
    ``sink``."""
    ranged = needs_seek(dropped.key)
    source = cast(BinaryIO, ctx.data.open_ranged(dropped.key)) if ranged else ctx.data.open_stream(dropped.key)
    with closing(source):
        return check_file(source, dropped.key, contract, sink=sink)


def _accept(ctx: StepContext, dropped: DroppedObject, drop: IncomingObject, correlation_id: str, verdict: Verdict,
            normalized: BinaryIO) -> dict[str, Any]:
    source = f"s3://{dropped.bucket}/{dropped.key}"
    version, rows, contract = str(verdict.data_version), verdict.report.rows, verdict.contract_version
    data_key = accepted_data_key(drop.model, version)
    manifest_key = accepted_manifest_key(drop.model, version)
    if not ctx.data.exists(manifest_key):  # written last: after a crash between the two, both are written again
        ctx.data.put_file(data_key, normalized, NORMALIZED_CONTENT_TYPE)
        ctx.data.put_json(manifest_key, {
            "model": drop.model, "data_version": version, "rows": rows, "source": source,
            "etag": dropped.etag, "contract_version": contract, "validation": verdict.to_dict(),
        })
    created = ctx.registry.record_dataset(DatasetRecord(
        model=drop.model, data_version=version, rows=rows, data_key=data_key, sources=(source,),
        accepted_at=iso(ctx.clock()), contract_version=contract,
    ), recorded_by=f"{correlation_id}@{dropped.version_id}")
    result = {"outcome": "accepted", "model": drop.model, "data_version": version, "rows": rows,
              "data_key": data_key, "contract_version": contract, "correlation_id": correlation_id,
              "new_version": created}
    if not created:
        return {**result, "outcome": "already_accepted"}
    ctx.events.publish(DetailType.DATASET_ACCEPTED, {
        "model": drop.model, "data_version": version, "rows": rows, "data_key": data_key, "source": source,
        "contract_version": contract, "correlation_id": correlation_id,
    })
    return result


def _quarantine(ctx: StepContext, dropped: DroppedObject, drop: IncomingObject, correlation_id: str,
                report: dict[str, Any]) -> dict[str, Any]:
    """Copy the raw drop under rejected/ with its report; the original is never touched."""
    prefix = rejected_prefix(drop.model, correlation_id)
    ctx.data.copy_from(dropped.bucket, dropped.key, prefix + drop.filename)
    report = {**report, "source": f"s3://{dropped.bucket}/{dropped.key}", "etag": dropped.etag}
    ctx.data.put_json(prefix + "report.json", report)
    ctx.data.put_text(prefix + "summary.txt", str(report.get("summary", "")))
    ctx.events.publish(DetailType.DATASET_REJECTED, {
        "model": drop.model, "source": report["source"], "report_key": prefix + "report.json",
        "summary": str(report.get("summary", ""))[:2000], "correlation_id": correlation_id,
    })
    return {"outcome": "rejected", "model": drop.model, "report_key": prefix + "report.json",
            "summary": report.get("summary", ""), "correlation_id": correlation_id}


def _failure_report(rule: str, message: str) -> dict[str, Any]:
    summary = f"REJECTED: {rule}: {message}"
    issue: dict[str, Any] = {"rule": rule, "column": None, "count": 0, "examples": [], "message": message,
                             "severity": "error"}
    return {"accepted": False, "rows": 0, "columns": 0, "issues": [issue], "summary": summary}


def dropped_object_from_event(event: dict[str, Any]) -> DroppedObject:
    """Read bucket, key, etag and size from an S3 "Object Created" event delivered by EventBridge."""
    detail = event.get("detail") or {}
    obj = detail.get("object") or {}
    try:
        return DroppedObject(
            bucket=str(detail["bucket"]["name"]), key=str(obj["key"]),
            etag=str(obj.get("etag") or obj.get("eTag") or ""), size=int(obj.get("size") or 0),
            version_id=str(obj.get("version-id") or ""),
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"not an S3 Object Created event: missing {error}; got {json.dumps(detail)[:200]}") from error
