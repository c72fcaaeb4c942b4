"""The local stand-in for Firehose record format conversion: staged JSON lines → partitioned Parquet.

moto's Firehose writes each batch as raw newline-delimited JSON under a static prefix and converts nothing;
on AWS, Firehose buffers, converts to Parquet with the Glue table's schema (sluice.wiring.capture) and writes
``captures/<model>/date=YYYY-MM-DD/``; records that do not fit the schema go to
``capture-errors/<model>/format-conversion-failed/``. The local runtime calls :func:`deliver_staged` to do the
conversion step with the same schema and the same result.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sluice.storage import ObjectStore
from sluice.wiring.capture import capture_columns

if TYPE_CHECKING:
    from sluice.config import ModelConfig

STAGING = "capture-staging"
CONVERSION_FAILED = "capture-errors/{model}/format-conversion-failed/"


def staging_prefix(model: str) -> str:
    return f"{STAGING}/{model}/"


def deliver_staged(store: ObjectStore, model: ModelConfig) -> int:
    """Convert every staged batch of ``model`` into Parquet captures and delete it; returns rows delivered."""
    from sluice.local.glue_schema import arrow_schema, convert
    from sluice.monitoring.captures import day_of, partition_prefix, records_to_parquet

    keys = store.list_keys(staging_prefix(model.name))
    if not keys:
        return 0
    lines = [store.get_bytes(key) for key in keys]
    schema = arrow_schema(capture_columns(model))
    failed: list[Mapping[str, Any]] = []

    def to_table(records: list[dict[str, Any]]) -> Any:
        table, rejected = convert(records, schema)
        failed.extend(rejected)
        return table

    for day, body in records_to_parquet(lines, to_table).items():
        store.put_bytes(f"{partition_prefix(model.name, day)}capture-{uuid.uuid4().hex}.parquet", body)
    for record in failed:
        day = day_of(int(record["captured_at"]))
        store.put_bytes(f"{CONVERSION_FAILED.format(model=model.name)}date={day}/{uuid.uuid4().hex}.json",
                        json.dumps(record).encode())
    for key in keys:
        store.delete(key)
    return sum(1 for body in lines for text in body.splitlines() if text.strip()) - len(failed)
