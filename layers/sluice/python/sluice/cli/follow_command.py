"""`sluice drop --wait`: follow the dropped file from a local stack's timeline or, on AWS, the registry and S3."""

from __future__ import annotations

import time
from typing import Any

import boto3
from botocore.exceptions import ClientError

from sluice.cli import render
from sluice.cli.follow import DropFollower, DropOutcome, follow
from sluice.cli.follow_sources import JournalSource, ObservationSource, RegistrySource
from sluice.cli.target import Target
from sluice.local.journal import TimelineJournal
from sluice.registry import DynamoDBRegistry
from sluice.storage import ObjectStore, parse_incoming_key

LOCAL_INTERVAL_S = 0.3
AWS_INTERVAL_S = 5.0


def journal_offset(target: Target) -> int | None:
    """Where the local timeline ends now (read before the drop, so none of its entries is missed)."""
    return TimelineJournal(target.journal).end() if target.journal is not None else None


def follow_drop(target: Target, model: str, key: str, etag: str, *, offset: int | None, timeout_s: float,
                show: bool) -> DropOutcome | None:
    """Follow the object at ``key`` (just put, with ``etag``) to its outcome; None after ``timeout_s``."""
    incoming = parse_incoming_key(key)
    if incoming is None:
        raise ValueError(f"{key} is not under incoming/<model>/")
    correlation_id = incoming.drop_id(etag)  # the validate function derives the same id from the S3 event
    bucket = target.settings.data_bucket
    store = ObjectStore(boto3.client("s3"), bucket)
    follower = DropFollower(model, key, correlation_id, read_report=lambda report: _read_json(store, report),
                            report_location=lambda report: f"s3://{bucket}/{report}")
    source: ObservationSource
    if target.journal is not None and offset is not None:
        source, interval = JournalSource(TimelineJournal(target.journal), offset), LOCAL_INTERVAL_S
    else:
        registry = DynamoDBRegistry(boto3.client("dynamodb"), target.settings.registry_table)
        source, interval = RegistrySource(store, registry, model, correlation_id), AWS_INTERVAL_S
    display = render.DropDisplay(f"s3://{bucket}/{key}", enabled=show)
    outcome = None
    try:
        outcome = follow(follower, source, on_change=display.update, timeout_s=timeout_s, interval_s=interval,
                         clock=time.monotonic, sleep=time.sleep)
    finally:
        display.close(outcome)
    return outcome


def _read_json(store: ObjectStore, key: str) -> dict[str, Any] | None:
    try:
        document = store.get_json(key)
    except (ClientError, ValueError):
        return None
    return document if isinstance(document, dict) else None
