"""Where things live in S3, and small typed access to it."""

from __future__ import annotations

from sluice.storage.keys import (
    IncomingObject,
    accepted_data_key,
    accepted_manifest_key,
    model_artifact_key,
    model_prefix,
    parse_incoming_key,
    rejected_prefix,
)
from sluice.storage.objects import ObjectStore

__all__ = [
    "IncomingObject",
    "ObjectStore",
    "accepted_data_key",
    "accepted_manifest_key",
    "model_artifact_key",
    "model_prefix",
    "parse_incoming_key",
    "rejected_prefix",
]
