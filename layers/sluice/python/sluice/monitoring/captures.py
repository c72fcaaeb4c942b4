"""Captured traffic as partitioned Parquet: ``captures/<model>/date=YYYY-MM-DD/<name>.parquet``.

On AWS, Firehose writes these files (record format conversion, JSON → Parquet); the local runtime writes them
with :func:`records_to_parquet`. Readers select the date partitions of a time window, then filter rows.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sluice.monitoring.baseline import Baseline, NumericProfile
from sluice.naming import capture_field
from sluice.storage import ObjectStore

CAPTURES = "captures"
TableBuilder = Callable[[list[dict[str, Any]]], pa.Table]


def capture_prefix(model: str) -> str:
    return f"{CAPTURES}/{model}/"


def partition_prefix(model: str, day: str) -> str:
    return f"{CAPTURES}/{model}/date={day}/"


def day_of(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def records_to_parquet(lines: Iterable[bytes], to_table: TableBuilder | None = None) -> dict[str, bytes]:
    """Newline-delimited JSON capture records → one Parquet file per day (what Firehose conversion does);
    ``to_table`` builds each day's table (default: the schema inferred from the records)."""
    by_day: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        for text in line.splitlines():
            if text.strip():
                record = json.loads(text)
                by_day.setdefault(day_of(int(record["captured_at"])), []).append(record)
    files = {}
    for day, records in by_day.items():
        buffer = io.BytesIO()
        pq.write_table((to_table or pa.Table.from_pylist)(records), buffer, compression="snappy")
        files[day] = buffer.getvalue()
    return files


def read_captures(store: ObjectStore, model: str, *, since_ms: int, until_ms: int) -> pa.Table:
    """Every captured row of ``model`` with ``since_ms <= captured_at < until_ms`` (possibly empty)."""
    tables = []
    day = datetime.fromtimestamp(since_ms / 1000, tz=UTC).date()
    last = datetime.fromtimestamp(until_ms / 1000, tz=UTC).date()
    while day <= last:
        for key in store.list_keys(partition_prefix(model, day.isoformat())):
            if key.endswith(".parquet"):
                tables.append(pq.read_table(io.BytesIO(store.get_bytes(key))))
        day += timedelta(days=1)
    if not tables:
        return pa.table({"request_id": pa.array([], pa.string()), "captured_at": pa.array([], pa.int64())})
    table = pa.concat_tables(tables, promote_options="permissive")
    when = table.column("captured_at")
    return table.filter(pc.and_(pc.greater_equal(when, since_ms), pc.less(when, until_ms)))


def of_version(table: pa.Table, version: int | str) -> pa.Table:
    if table.num_rows == 0 or "model_version" not in table.column_names:
        return table.slice(0, 0)
    return table.filter(pc.equal(table.column("model_version").cast(pa.string()), str(version)))


def drift_inputs(table: pa.Table, baseline: Baseline) -> tuple[dict[str, Any], Any]:
    """(feature → values, predictions) shaped for drift detection: float arrays, or category counts."""
    features = table.column("features").combine_chunks() if "features" in table.column_names else None
    columns: dict[str, Any] = {}
    for name, profile in baseline.features.items():
        values = _field(features, name, table.num_rows)
        columns[name] = _numeric(values) if isinstance(profile, NumericProfile) else _counts(values)
    prediction = None
    if baseline.prediction is not None and "prediction" in table.column_names:
        values = table.column("prediction").combine_chunks()
        prediction = _numeric(values) if isinstance(baseline.prediction, NumericProfile) else _counts(values)
    return columns, prediction


def _field(features: pa.StructArray | None, name: str, rows: int) -> pa.Array:
    """A feature's values, under its capture field name (sluice.naming.capture_field) or, in captures
    written before that name existed, its own name or its lower-cased name."""
    if features is None:
        return pa.nulls(rows)
    for candidate in (capture_field(name), name, name.lower()):
        if features.type.get_field_index(candidate) >= 0:
            return features.field(candidate)
    return pa.nulls(rows)


def _numeric(values: pa.Array) -> np.ndarray:
    cast = pc.cast(values, pa.float64(), safe=False) if not pa.types.is_null(values.type) else values
    return np.asarray(cast.to_numpy(zero_copy_only=False), dtype=np.float64)


def _counts(values: pa.Array) -> Mapping[str | None, int]:
    text = pc.cast(values, pa.string()) if not pa.types.is_string(values.type) else values
    counted = pc.value_counts(text)
    return {value: int(count) for value, count in zip(counted.field("values").to_pylist(),
                                                      counted.field("counts").to_pylist(), strict=True)}
