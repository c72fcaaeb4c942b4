"""validate_dataset: accept a drop as a content-addressed data version, or quarantine it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sluice.clock import iso
from sluice.config import ConfigError
from sluice.data import DatasetReadError, data_version, normalize, read_dataset, to_parquet_bytes, validate
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

MAX_IN_MEMORY_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class DroppedObject:
    """The object an S3 "Object Created" event names."""

    bucket: str
    key: str
    etag: str
    size: int


def validate_drop(ctx: StepContext, dropped: DroppedObject) -> dict[str, Any]:
    """Validate one dropped object; never raises on bad data (it is quarantined instead)."""
    if dropped.bucket != ctx.data.bucket:
        return {"outcome": "ignored", "reason": f"bucket {dropped.bucket} is not the data bucket"}
    drop = parse_incoming_key(dropped.key)
    if drop is None:
        return {"outcome": "ignored", "reason": f"{dropped.key} is not under incoming/<model>/"}
    correlation_id = drop.drop_id(dropped.etag)
    try:
        model = ctx.config.model(drop.model)
    except ConfigError as error:
        return _quarantine(ctx, dropped, drop, correlation_id, _failure_report("unknown_model", str(error)))
    if dropped.size > MAX_IN_MEMORY_BYTES:
        reason = f"{dropped.size} bytes exceeds the in-memory limit of {MAX_IN_MEMORY_BYTES} bytes"
        return _quarantine(ctx, dropped, drop, correlation_id, _failure_report("too_large", reason))
    try:
        table = read_dataset(ctx.data.get_bytes(dropped.key), dropped.key)
    except DatasetReadError as error:
        return _quarantine(ctx, dropped, drop, correlation_id, _failure_report("unreadable", str(error)))
    report = validate(table, model.contract)
    if not report.accepted:
        return _quarantine(ctx, dropped, drop, correlation_id, {**report.to_dict(), "summary": report.summary()})
    normalized = normalize(table, model.contract)
    version = data_version(normalized)
    return _accept(ctx, dropped, drop, correlation_id, normalized.num_rows, version, to_parquet_bytes(normalized),
                   report.to_dict())


def _accept(ctx: StepContext, dropped: DroppedObject, drop: IncomingObject, correlation_id: str, rows: int,
            version: str, parquet: bytes, report: dict[str, Any]) -> dict[str, Any]:
    source = f"s3://{dropped.bucket}/{dropped.key}"
    data_key = accepted_data_key(drop.model, version)
    if not ctx.data.exists(data_key):
        ctx.data.put_bytes(data_key, parquet, "application/vnd.apache.parquet")
        ctx.data.put_json(accepted_manifest_key(drop.model, version), {
            "model": drop.model, "data_version": version, "rows": rows, "source": source,
            "etag": dropped.etag, "validation": report,
        })
    created = ctx.registry.record_dataset(DatasetRecord(
        model=drop.model, data_version=version, rows=rows, data_key=data_key, sources=(source,),
        accepted_at=iso(ctx.clock()),
    ))
    result = {"outcome": "accepted", "model": drop.model, "data_version": version, "rows": rows,
              "data_key": data_key, "correlation_id": correlation_id, "new_version": created}
    if not created:
        return {**result, "outcome": "already_accepted"}
    ctx.events.publish(DetailType.DATASET_ACCEPTED, {
        "model": drop.model, "data_version": version, "rows": rows, "data_key": data_key, "source": source,
        "correlation_id": correlation_id,
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
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"not an S3 Object Created event: missing {error}; got {json.dumps(detail)[:200]}") from error
