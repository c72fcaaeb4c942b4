"""Files to score and what batch scoring wrote (tests/integration/test_batch_scoring*.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sluice.artifacts import MODEL_FILE
from sluice.demo import samples
from sluice.storage import model_artifact_key


def to_score(folder: Path, name: str, *, broken: dict[int, str] | None = None) -> tuple[Path, list[dict[str, str]]]:
    """40 rows of the demo data as a client exports them (target column included), some mean_radius broken."""
    rows = samples.read_rows(samples.BREAST_CANCER)[300:340]
    for index, value in (broken or {}).items():
        rows[index]["mean_radius"] = value
    path = folder / name
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue())
    return path, rows


def outputs(cloud: Any, model: str) -> dict[str, bytes]:
    listed = cloud.clients.s3.list_objects_v2(Bucket=cloud.settings.data_bucket, Prefix=f"scored/{model}/")
    return {item["Key"]: cloud.clients.s3.get_object(Bucket=cloud.settings.data_bucket, Key=item["Key"])["Body"]
            .read() for item in listed.get("Contents", [])}


@contextmanager
def artifact_unreadable(cloud: Any, model: str, version: int = 1) -> Iterator[None]:
    """While inside, the version's served artifact is gone (every load of it fails); put back on the way out."""
    bucket, key = cloud.settings.artifact_bucket, model_artifact_key(model, version, MODEL_FILE)
    saved = cloud.clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    cloud.clients.s3.delete_object(Bucket=bucket, Key=key)
    try:
        yield
    finally:
        cloud.clients.s3.put_object(Bucket=bucket, Key=key, Body=saved)
