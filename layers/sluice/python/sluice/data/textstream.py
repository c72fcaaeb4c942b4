"""File-like wrappers for streamed drops: bounded gunzip, a text guard (encoding, binary), and a replay prefix."""

from __future__ import annotations

import codecs
import io
import zlib
from abc import abstractmethod
from typing import BinaryIO

import numpy as np

from sluice.data.errors import DatasetReadError
from sluice.data.payload import DEFAULT_MAX_DECOMPRESSED_BYTES, GZIP_MAGIC, SIGNATURES, UTF8_BOM, not_utf8_message

READ_CHUNK = 1024 * 1024


class _Reader(io.RawIOBase):
    """A readable raw stream whose subclasses only implement ``_read(size) -> bytes`` (b"" at the end)."""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (b"" at the end), handed over without a copy through ``readinto``."""
        if size is None or size < 0:
            return self.readall()
        return self._read(size)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    @abstractmethod
    def _read(self, size: int) -> bytes:
        """Up to ``size`` bytes of the stream; b"" at the end."""


class GunzipStream(_Reader):
    """Decompress gzip (all members) as it is read; never produce more than ``limit`` bytes."""

    def __init__(self, source: BinaryIO, *, limit: int = DEFAULT_MAX_DECOMPRESSED_BYTES) -> None:
        super().__init__()
        self._source, self._limit = source, limit
        self._inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self._pending = b""
        self._produced = 0
        self._started = self._finished = False

    def _read(self, size: int) -> bytes:
        if not self._started:
            self._start()
        while not self._finished:
            if self._inflater.eof:
                self._next_member()
                continue
            if not self._pending:
                self._pending = self._source.read(READ_CHUNK)
                if not self._pending:
                    raise DatasetReadError("the gzip content is truncated")
            try:
                output = self._inflater.decompress(self._pending, max(1, size))
            except zlib.error as error:
                raise DatasetReadError(f"the gzip content is corrupt: {error}") from error
            self._pending = self._inflater.unused_data if self._inflater.eof else self._inflater.unconsumed_tail
            self._produced += len(output)
            if self._produced > self._limit:
                raise DatasetReadError(f"the gzip content expands beyond the limit of {self._limit} bytes")
            if output:
                return output
        return b""

    def _start(self) -> None:
        self._started = True
        self._pending = _read_at_least(self._source, len(GZIP_MAGIC))
        if not self._pending or self._pending.isspace():
            raise DatasetReadError("the file is empty")
        if not self._pending.startswith(GZIP_MAGIC):
            raise DatasetReadError("the name ends in .gz but the content is not gzip-compressed")

    def _next_member(self) -> None:
        rest = self._pending.lstrip(b"\x00")
        while not rest:
            more = self._source.read(READ_CHUNK)
            if not more:
                self._finished = True
                return
            rest = more.lstrip(b"\x00")
        rest += _read_at_least(self._source, len(GZIP_MAGIC) - len(rest))
        if not rest.startswith(GZIP_MAGIC):
            raise DatasetReadError("the gzip content has trailing garbage after its last member")
        self._inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self._pending = rest


class TextGuard(_Reader):
    """Pass UTF-8 text through, without its BOM; raise a readable reason for binary or mis-encoded bytes.

    Offsets in messages count bytes after the BOM. Reaching the end without any non-blank byte means
    the file is empty.
    """

    def __init__(self, source: BinaryIO) -> None:
        super().__init__()
        self._source = source
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._offset = 0
        self._started = self._content = self._ended = False
        self._checked = b""  # checked bytes not handed out yet (the start is read in one piece)

    def _read(self, size: int) -> bytes:
        if self._checked:
            data, self._checked = self._checked[:size], self._checked[size:]
            return data
        if self._ended:
            return b""
        data = self._source.read(max(1, size)) if self._started else self._start()
        if not data:
            self._finish()
            return b""
        self._check(data)
        data, self._checked = data[:size], data[size:]
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Read straight into ``buffer`` (no intermediate copy once the start has been checked)."""
        if self._ended or not self._started or self._checked:
            return super().readinto(buffer)
        view = memoryview(buffer).cast("B")
        count = read_into(self._source, view)
        if not count:
            self._finish()
            return 0
        self._check(view[:count])
        return count

    def _start(self) -> bytes:
        self._started = True
        data = _read_at_least(self._source, 4)
        for signature, meaning in SIGNATURES:
            if data.startswith(signature):
                raise DatasetReadError(f"expected UTF-8 text but the content looks like {meaning}")
        return data[len(UTF8_BOM):] if data.startswith(UTF8_BOM) else data

    def _check(self, data: bytes | memoryview) -> None:
        if not self._content and not bytes(data).isspace():
            self._content = True
        codes = np.frombuffer(data, dtype=np.uint8)
        if codes.size and codes.min() == 0:
            position = int(np.argmin(codes))  # the first NUL
            raise DatasetReadError(
                f"expected text but found binary content (a NUL byte at offset {self._offset + position})")
        held = self._decoder.getstate()[0]
        if not held and (not codes.size or codes.max() < 0x80):  # ASCII, the common case: nothing to decode
            self._offset += len(data)
            return
        try:
            self._decoder.decode(data)
        except UnicodeDecodeError as error:
            byte = (held + data)[error.start]
            raise DatasetReadError(not_utf8_message(byte, self._offset - len(held) + error.start)) from None
        self._offset += len(data)

    def _finish(self) -> None:
        self._ended = True
        if not self._content:
            raise DatasetReadError("the file is empty")
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DatasetReadError(
                f"the content is not valid UTF-8 (it ends inside a character at offset {self._offset - 1}); "
                "re-save the file as UTF-8") from None


class Replay(_Reader):
    """Serve ``prefix`` first, then the rest of ``source``."""

    def __init__(self, prefix: bytes, source: BinaryIO) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._source = source

    def _read(self, size: int) -> bytes:
        if self._prefix:
            data, self._prefix = bytes(self._prefix[:size]), self._prefix[size:]
            return data
        return self._source.read(max(1, size))

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._prefix:
            return super().readinto(buffer)
        return read_into(self._source, memoryview(buffer).cast("B"))


def read_into(source: BinaryIO, view: memoryview) -> int:
    """Fill ``view`` from ``source`` (without a copy when it can ``readinto``); the count read, 0 at the end."""
    readinto = getattr(source, "readinto", None)
    if readinto is None:
        return _copy_into(source, view)
    try:
        return int(readinto(view) or 0)
    except (NotImplementedError, io.UnsupportedOperation):  # a raw stream that implements only read()
        return _copy_into(source, view)


def _copy_into(source: BinaryIO, view: memoryview) -> int:
    data = source.read(len(view))
    view[: len(data)] = data
    return len(data)


def _read_at_least(source: BinaryIO, count: int) -> bytes:
    data = b""
    while len(data) < count:
        more = source.read(max(count - len(data), READ_CHUNK))
        if not more:
            break
        data += more
    return data
