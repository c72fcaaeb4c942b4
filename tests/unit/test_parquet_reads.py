"""How many ranged GETs a Parquet read costs on S3: each column's read buffer is one GET when it fills, so the
buffer (a shared budget over the columns read) sets the count. Counted on a fake S3 client, not timed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sluice.data import parquet_io
from sluice.data.parquet_io import MAX_READ_BUFFER, MIN_READ_BUFFER, open_parquet, read_buffer
from sluice.storage.ranged import RangedObject

ROWS, FEATURES = 300_000, 20


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self) -> bytes:
        return self._data


class CountingS3:
    """HeadObject and ranged GetObject over one object held in memory."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def head_object(self, **_: Any) -> dict[str, Any]:
        return {"ContentLength": len(self.data)}

    def get_object(self, *, Range: str, **_: Any) -> dict[str, Any]:  # noqa: N803 (boto3's parameter name)
        start, end = (int(bound) for bound in Range.removeprefix("bytes=").split("-"))
        return {"Body": _Body(self.data[start:end + 1])}


@pytest.fixture(scope="module")
def parquet_bytes() -> bytes:
    generator = np.random.default_rng(3)
    table = pa.table({**{f"f{index}": generator.standard_normal(ROWS) for index in range(FEATURES)},
                      "label": np.where(generator.random(ROWS) > 0.5, "yes", "no")})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=100_000)
    return bytes(sink.getvalue().to_pybytes())


def _gets(data: bytes) -> tuple[int, int]:
    ranged = RangedObject(CountingS3(data), "bucket", "key")
    _, batches = open_parquet(ranged)
    rows = sum(batch.num_rows for batch in batches)
    return rows, ranged.requests


def test_a_parquet_read_from_s3_fills_large_buffers_not_64_kib_ones(parquet_bytes: bytes,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a 60 MB Parquet file of 21 columns in 3 row groups, read through ranged GETs
    columns, groups = FEATURES + 1, 3
    # WHEN it is read whole
    rows, gets = _gets(parquet_bytes)
    # THEN every row is read, in about one GET per buffer of each column chunk (plus the footer's few)
    assert rows == ROWS
    per_chunk = len(parquet_bytes) / (columns * groups)
    bound = columns * groups * (int(per_chunk // read_buffer(columns)) + 2) + 4
    assert gets <= bound, (gets, bound)
    # AND 64 KiB buffers (the reader before) cost several times as many GETs for the same rows
    monkeypatch.setattr(parquet_io, "READ_BUDGET", MIN_READ_BUFFER * columns)
    small_rows, small_gets = _gets(parquet_bytes)
    assert small_rows == ROWS and small_gets >= 5 * gets, (small_gets, gets)


def test_the_buffer_budget_is_shared_by_the_columns_within_bounds() -> None:
    assert read_buffer(1) == MAX_READ_BUFFER
    assert read_buffer(21) == parquet_io.READ_BUDGET // 21
    assert read_buffer(10_000) == MIN_READ_BUFFER
    assert all(MIN_READ_BUFFER <= read_buffer(count) <= MAX_READ_BUFFER for count in range(1, 2000))
