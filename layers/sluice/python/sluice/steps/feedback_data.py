"""Labelled traffic → an accepted dataset of the model (``[data] learn_from_feedback``).

The rows (captured requests joined with their labels) go through the drops' own path: ``check_file`` against the
model's contract, normalized to Parquet and versioned by content hash, stored as
``accepted/<model>/<data_version>/`` with a manifest naming the feedback file and the capture window, and recorded
in the registry with origin ``feedback`` so the next training picks them up. Rows the contract refuses are
quarantined with their report, never trained on.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tempfile
from typing import Any

import pandas as pd

from sluice.clock import iso
from sluice.config.model import ModelConfig
from sluice.data import check_file
from sluice.registry import DatasetRecord
from sluice.steps.context import StepContext
from sluice.storage import accepted_data_key, accepted_manifest_key, rejected_prefix

ORIGIN = "feedback"
PARQUET = "application/vnd.apache.parquet"


def accept_feedback_rows(ctx: StepContext, model: ModelConfig, rows: pd.DataFrame, *, feedback_key: str,
                         since_ms: int, until_ms: int, correlation_id: str) -> dict[str, Any]:
    """Validate ``rows`` by the model's contract; accept them as a data version or quarantine them."""
    body = rows.to_csv(index=False).encode("utf-8")
    stem = posixpath.basename(feedback_key).rsplit(".", 1)[0][:40] or "feedback"
    lineage = {"origin": ORIGIN, "feedback_key": feedback_key, "rows": len(rows),
               "captured_since_ms": since_ms, "captured_until_ms": until_ms}
    with tempfile.TemporaryFile() as sink:
        verdict = check_file(io.BytesIO(body), f"{stem}.csv", model.contract, sink=sink)
        if not verdict.accepted or verdict.data_version is None:
            drop_id = f"{ORIGIN}-{stem}-{hashlib.sha256(body).hexdigest()[:12]}"
            prefix = rejected_prefix(model.name, drop_id)
            report = {**verdict.to_dict(), **lineage}
            ctx.data.put_bytes(prefix + f"{stem}.csv", body, "text/csv")
            ctx.data.put_json(prefix + "report.json", report)
            return {"outcome": "rejected", "report_key": prefix + "report.json",
                    "summary": str(report.get("summary", ""))}
        version, contract = str(verdict.data_version), verdict.contract_version
        data_key, manifest_key = accepted_data_key(model.name, version), accepted_manifest_key(model.name, version)
        if not ctx.data.exists(manifest_key):  # written last, as for drops
            ctx.data.put_file(data_key, sink, PARQUET)
            ctx.data.put_json(manifest_key, {
                "model": model.name, "data_version": version, "rows": verdict.report.rows,
                "source": f"s3://{ctx.data.bucket}/{feedback_key}", "contract_version": contract,
                "validation": verdict.to_dict(), "lineage": lineage,
            })
    created = ctx.registry.record_dataset(DatasetRecord(
        model=model.name, data_version=version, rows=verdict.report.rows, data_key=data_key,
        sources=(f"s3://{ctx.data.bucket}/{feedback_key}",), accepted_at=iso(ctx.clock()), contract_version=contract,
        origin=ORIGIN,
    ), recorded_by=correlation_id)
    return {"outcome": "accepted" if created else "already_accepted", "data_version": version,
            "rows": verdict.report.rows, "data_key": data_key}
