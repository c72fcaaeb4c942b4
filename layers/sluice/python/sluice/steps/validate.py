"""validate_dataset: accept a drop as a content-addressed data version, or quarantine it."""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
from contextlib import closing
from typing import Any, BinaryIO, cast

from botocore.exceptions import BotoCoreError, ClientError

from sluice.config import ConfigError, DataContract
from sluice.data import Verdict, check_file, needs_seek
from sluice.steps.context import StepContext
from sluice.steps.dataset_outcome import (
    NORMALIZED_CONTENT_TYPE,
    DroppedObject,
    accept_dataset,
    failure_report,
    quarantine,
)
from sluice.steps.validate_job import start_validation_job
from sluice.storage import parse_incoming_key

SOURCE_ERRORS = (OSError, BotoCoreError, ClientError)
"""Errors reading the dropped object itself (S3, the network): raised, so the event is retried; the file is not
judged. Every other error while validating becomes a rejection with a report (check_file already turns every
parser error into an ``unreadable`` issue; what is left is a fault of sluice, still reported, never raised)."""
logger = logging.getLogger(__name__)
__all__ = ["DroppedObject", "dropped_object_from_event", "validate_drop"]


def validate_drop(ctx: StepContext, dropped: DroppedObject) -> dict[str, Any]:
    """Validate one dropped object, streamed from S3 in bounded memory; bad data is quarantined, never raised.
    A drop above the model's ``[data] processing_job_above_mb`` is handed to a SageMaker processing job instead
    (``steps.validate_job``), whose end settles it the same way."""
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
        return quarantine(ctx, dropped, drop, correlation_id, failure_report("unknown_model", str(error)))
    if model.data.validated_by_job(dropped.size):
        return start_validation_job(ctx, model, dropped, correlation_id)
    with tempfile.TemporaryFile() as sink:
        try:
            verdict = _check(ctx, dropped, model.contract, sink)
        except SOURCE_ERRORS:
            raise
        except Exception as error:  # never raised: the drop is quarantined with the reason, as bad data is
            logger.exception("validation of %s could not complete", dropped.key)
            message = (f"validation could not complete ({type(error).__name__}: {error}); the file is kept "
                       "unchanged and can be dropped again")
            return quarantine(ctx, dropped, drop, correlation_id, failure_report("validation_error", message))
        if not verdict.accepted or verdict.data_version is None:
            return quarantine(ctx, dropped, drop, correlation_id, verdict.to_dict())
        return accept_dataset(ctx, dropped, drop, correlation_id, verdict,
                              lambda key: ctx.data.put_file(key, sink, NORMALIZED_CONTENT_TYPE))


def _check(ctx: StepContext, dropped: DroppedObject, contract: DataContract, sink: BinaryIO) -> Verdict:
    """The verdict on the dropped object, streamed from S3 (ranged reads for Parquet), its normalized rows to
    ``sink``."""
    ranged = needs_seek(dropped.key)
    source = cast(BinaryIO, ctx.data.open_ranged(dropped.key)) if ranged else ctx.data.open_stream(dropped.key)
    with closing(source):
        return check_file(source, dropped.key, contract, sink=sink)


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
