"""The bytes one worker reads: the file's header, then its part's byte range (a streamed, read-only file)."""

from __future__ import annotations

import io
from typing import BinaryIO

READ_SIZE = 8 * 1024 * 1024


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
