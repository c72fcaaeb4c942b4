"""The two ends of a drop's validation, shared by validate_dataset's Lambda path and its processing-job path: the
accepted data version (data, manifest, registry record, DatasetAccepted) or the quarantine (raw copy, report.json,
summary.txt, DatasetRejected)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sluice.clock import iso
from sluice.data import Verdict
from sluice.events import DetailType
from sluice.registry import DatasetRecord
from sluice.steps.context import StepContext
from sluice.storage import IncomingObject, accepted_data_key, accepted_manifest_key, rejected_prefix

NORMALIZED_CONTENT_TYPE = "application/vnd.apache.parquet"


@dataclass(frozen=True)
class DroppedObject:
    """The object an S3 "Object Created" event names."""

    bucket: str
    key: str
    etag: str
    size: int
    version_id: str = ""  # the object version (versioned buckets): tells a re-upload from a rerun


def accept_dataset(ctx: StepContext, dropped: DroppedObject, drop: IncomingObject, correlation_id: str,
                   verdict: Verdict | dict[str, Any], store_data: Callable[[str], None]) -> dict[str, Any]:
    """Record an accepted drop as its data version: ``store_data(key)`` writes the normalized Parquet there (skipped
    when the manifest, written last, exists already); DatasetAccepted once per new version."""
    document = verdict.to_dict() if isinstance(verdict, Verdict) else verdict
    source = f"s3://{dropped.bucket}/{dropped.key}"
    version, rows, contract = str(document["data_version"]), int(document["rows"]), str(document["contract_version"])
    data_key = accepted_data_key(drop.model, version)
    manifest_key = accepted_manifest_key(drop.model, version)
    if not ctx.data.exists(manifest_key):  # written last: after a crash between the two, both are written again
        store_data(data_key)
        ctx.data.put_json(manifest_key, {
            "model": drop.model, "data_version": version, "rows": rows, "source": source,
            "etag": dropped.etag, "contract_version": contract, "validation": document,
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


def quarantine(ctx: StepContext, dropped: DroppedObject, drop: IncomingObject, correlation_id: str,
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


def failure_report(rule: str, message: str) -> dict[str, Any]:
    """The report of a drop rejected for a reason other than its content (unknown model, validation failure)."""
    summary = f"REJECTED: {rule}: {message}"
    issue: dict[str, Any] = {"rule": rule, "column": None, "count": 0, "examples": [], "message": message,
                             "severity": "error"}
    return {"accepted": False, "rows": 0, "columns": 0, "issues": [issue], "summary": summary}
