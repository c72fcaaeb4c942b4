"""The S3 key layout (pure functions; see ARCHITECTURE.md, State)."""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass

INCOMING = "incoming"
ACCEPTED = "accepted"
REJECTED = "rejected"
MODELS = "models"
CAPTURES = "captures"
FEEDBACK = "feedback"
DRIFT = "drift"
QUALITY = "quality"
SCORE = "score"
SCORED = "scored"
VALIDATION = "validation"
SCORING_PARTS = "scoring-parts"
"""Staging of a file scored in parts (one object per part, until the merge); expired by lifecycle."""


@dataclass(frozen=True)
class IncomingObject:
    """A raw drop: ``incoming/<model>/<path>``."""

    model: str
    key: str
    filename: str

    def drop_id(self, etag: str) -> str:
        """A stable id for one drop of one object (same key and content → same id)."""
        digest = hashlib.sha256(f"{self.key}\0{etag}".encode()).hexdigest()[:12]
        stem = self.filename.split(".")[0][:40] or "drop"
        return f"{stem}-{digest}"


def parse_incoming_key(key: str) -> IncomingObject | None:
    """Parse ``incoming/<model>/<...>/<file>``; None when the key is not a drop."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != INCOMING or not parts[1] or not parts[-1]:
        return None
    return IncomingObject(model=parts[1], key=key, filename=parts[-1])


def accepted_data_key(model: str, data_version: str) -> str:
    return f"{ACCEPTED}/{model}/{data_version}/data.parquet"


def accepted_manifest_key(model: str, data_version: str) -> str:
    return f"{ACCEPTED}/{model}/{data_version}/manifest.json"


def rejected_prefix(model: str, drop_id: str) -> str:
    return f"{REJECTED}/{model}/{drop_id}/"


def validation_output_prefix(model: str, job_name: str) -> str:
    """Where a validation processing job writes its verdict and normalized data (the completion moves them on)."""
    return f"{VALIDATION}/{model}/{job_name}/"


def model_prefix(model: str, version: int) -> str:
    return f"{MODELS}/{model}/{version:06d}/"


def model_artifact_key(model: str, version: int, name: str) -> str:
    return posixpath.join(model_prefix(model, version), name)
