"""The local stand-in for Firehose record format conversion: staged JSON lines → partitioned Parquet.

moto's Firehose writes each batch as raw newline-delimited JSON under a static prefix and converts nothing;
on AWS, Firehose buffers, converts to Parquet and writes ``captures/<model>/date=YYYY-MM-DD/``. The local
runtime calls :func:`deliver_staged` to do the conversion step with the same result.
"""

from __future__ import annotations

import uuid

from sluice.storage import ObjectStore

STAGING = "capture-staging"


def staging_prefix(model: str) -> str:
    return f"{STAGING}/{model}/"


def deliver_staged(store: ObjectStore, model: str) -> int:
    """Convert every staged batch of ``model`` into Parquet captures and delete it; returns rows delivered."""
    from sluice.monitoring.captures import partition_prefix, records_to_parquet

    keys = store.list_keys(staging_prefix(model))
    if not keys:
        return 0
    lines = [store.get_bytes(key) for key in keys]
    files = records_to_parquet(lines)
    for day, body in files.items():
        store.put_bytes(f"{partition_prefix(model, day)}capture-{uuid.uuid4().hex}.parquet", body)
    for key in keys:
        store.delete(key)
    return sum(body.count(b"\n") for body in lines)
