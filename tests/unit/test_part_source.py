"""A Parquet part's row groups and footer are fetched up front in a few large reads, and read back unchanged."""

from __future__ import annotations

import io
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

from sluice.data.batches import open_batches
from sluice.scoring.part_source import parquet_part


class CountingFile(io.BytesIO):
    """A file that counts its reads (each one a ranged GET on S3)."""

    reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        return super().read(size)


def parquet_bytes() -> bytes:
    table = pa.table({"x": [float(i) for i in range(4000)], "name": [f"n{i % 7}" for i in range(4000)],
                      "n": pa.array([None if i % 5 == 0 else i for i in range(4000)], pa.int64())})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=1000, data_page_size=512)
    return sink.getvalue()


def test_a_parts_row_groups_read_from_held_copies_equal_the_direct_read():
    # GIVEN a Parquet file of 4 row groups with small pages (many reads when read directly)
    data = parquet_bytes()
    direct = CountingFile(data)
    expected = pa.Table.from_batches(list(open_batches(direct, "f.parquet", row_groups=[1, 2])))
    # WHEN row groups 1 and 2 are read with their bytes and the footer held
    source = CountingFile(data)
    with tempfile.TemporaryFile() as span, tempfile.TemporaryFile() as tail:
        held = parquet_part(source, [1, 2], span, tail)
        fetched = source.reads
        table = pa.Table.from_batches(list(open_batches(held, "f.parquet", row_groups=[1, 2])))
    # THEN the same rows, and nothing read from the file after the few reads up front
    assert table.equals(expected) and table.num_rows == 2000
    assert source.reads == fetched and fetched < direct.reads


def test_an_unreadable_footer_leaves_the_file_as_it_is():
    source = io.BytesIO(b"not parquet at all")
    with tempfile.TemporaryFile() as span, tempfile.TemporaryFile() as tail:
        assert parquet_part(source, [0], span, tail) is source
