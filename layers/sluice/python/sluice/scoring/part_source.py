"""The bytes one worker reads: the file's header, then its part's byte range (a streamed, read-only file); for
Parquet, its row groups' bytes and the footer fetched up front in large reads."""

from __future__ import annotations

import io
from collections.abc import Collection
from typing import BinaryIO, cast

import pyarrow as pa
import pyarrow.parquet as pq

from sluice.storage.ranged import SeekableReader

READ_SIZE = 8 * 1024 * 1024
FOOTER_READ = 64 * 1024


class PartStream(io.RawIOBase):
    """``header`` followed by bytes ``[start, end)`` of the seekable ``file``, read ``READ_SIZE`` at a time."""

    def __init__(self, file: BinaryIO, header: bytes, start: int, end: int) -> None:
        super().__init__()
        self._file, self._pending, self._position, self._end = file, header, start, end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._pending and self._position < self._end:
            self._file.seek(self._position)
            self._pending = self._file.read(min(READ_SIZE, self._end - self._position))
            self._position += len(self._pending)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def read_part(file: BinaryIO, header_end: int, start: int, end: int) -> BinaryIO:
    """A buffered reader over the header's bytes ``[0, header_end)`` and the part's ``[start, end)``."""
    file.seek(0)
    header = file.read(header_end) if header_end else b""
    return io.BufferedReader(PartStream(file, header, start, end), buffer_size=READ_SIZE)


class HeldRanges(SeekableReader):
    """A seekable, read-only view of ``file`` (``size`` bytes) whose byte ranges ``held`` (``{start: local copy}``)
    are read from their local copies; a read outside them goes to ``file``."""

    def __init__(self, file: BinaryIO, size: int, held: dict[int, tuple[BinaryIO, int]]) -> None:
        super().__init__(size)
        self._file, self._held = file, held

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self.size - self._position)
        if wanted <= 0:
            return 0
        source, offset = self._file, self._position
        for start, (copy, length) in self._held.items():
            if start <= self._position and self._position + wanted <= start + length:
                source, offset = copy, self._position - start
                break
        source.seek(offset)
        data = source.read(wanted)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def copy_range(file: BinaryIO, start: int, end: int, local: BinaryIO) -> tuple[BinaryIO, int]:
    """Bytes ``[start, end)`` of ``file`` copied to ``local`` with one read of the range (one ranged GET)."""
    file.seek(start)
    remaining = end - start
    while remaining > 0:
        chunk = file.read(min(READ_SIZE, remaining))
        if not chunk:
            break
        local.write(chunk)
        remaining -= len(chunk)
    local.seek(0)
    return local, end - start - remaining


def parquet_part(file: BinaryIO, row_groups: Collection[int], span: BinaryIO, tail: BinaryIO) -> BinaryIO:
    """``file`` (a seekable Parquet file) with the bytes of ``row_groups`` and its footer held in ``span``
    and ``tail``: a few large reads instead of one per 64 KiB of each column's pages. ``file`` itself when its
    footer cannot be read (the reader then says why)."""
    size = file.seek(0, io.SEEK_END)
    try:
        metadata = pq.ParquetFile(file).metadata
    except (pa.ArrowException, OSError):
        return file
    starts, ends = [], []
    for index in row_groups:
        group = metadata.row_group(index)
        for column in range(group.num_columns):
            chunk = group.column(column)
            first = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
            first = min(first, chunk.data_page_offset) if first else chunk.data_page_offset
            starts.append(first)
            ends.append(first + chunk.total_compressed_size)
    tail_start = max(0, size - max(metadata.serialized_size + 8, FOOTER_READ))
    held = {tail_start: copy_range(file, tail_start, size, tail)}
    if starts:
        held[min(starts)] = copy_range(file, min(starts), min(max(ends), tail_start), span)
    return cast(BinaryIO, HeldRanges(file, size, held))
