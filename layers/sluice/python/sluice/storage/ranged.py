"""RangedObject: a seekable, read-only file over one S3 object, read with ranged GETs."""

from __future__ import annotations

import io
from typing import Any


class SeekableReader(io.RawIOBase):
    """A read-only file of ``size`` bytes with a position (subclasses read at it)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position


class RangedObject(SeekableReader):
    """Random access to an S3 object without downloading it: ``read`` at the current position is one ranged GET.

    With an ``etag`` every read is pinned to that content (a changed object fails instead of mixing versions).
    """

    def __init__(self, s3_client: Any, bucket: str, key: str, *, etag: str = "") -> None:
        self._s3, self._bucket, self._key, self._etag = s3_client, bucket, key, etag
        head = s3_client.head_object(Bucket=bucket, Key=key, **self._pin())
        super().__init__(int(head["ContentLength"]))
        self.requests = 0

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._get(self._position, min(len(buffer), self.size - self._position))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        remaining = self.size - self._position
        return self._get(self._position, remaining if size is None or size < 0 else min(size, remaining))

    def _get(self, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        self.requests += 1
        response = self._s3.get_object(Bucket=self._bucket, Key=self._key, Range=f"bytes={start}-{start + length - 1}",
                                       **self._pin())
        data: bytes = response["Body"].read()
        self._position = start + len(data)
        return data

    def _pin(self) -> dict[str, str]:
        return {"IfMatch": self._etag} if self._etag else {}
