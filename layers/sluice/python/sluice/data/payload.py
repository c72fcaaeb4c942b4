"""Checks and transformations on the raw bytes before any parser sees them."""

from __future__ import annotations

import codecs
import zlib

from sluice.data.errors import DatasetReadError

DEFAULT_MAX_DECOMPRESSED_BYTES = 2 * 1024**3
UTF8_BOM = codecs.BOM_UTF8
_CHUNK = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (_GZIP_MAGIC, "gzip-compressed data (add .gz to the name)"),
    (b"PAR1", "a Parquet file (name it .parquet)"),
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook (export it as CSV)"),
    (b"\xd0\xcf\x11\xe0", "a legacy Office document (export it as CSV)"),
    (codecs.BOM_UTF16_LE, "UTF-16 text (save it as UTF-8)"),
    (codecs.BOM_UTF16_BE, "UTF-16 text (save it as UTF-8)"),
)


def gunzip(body: bytes, *, limit: int = DEFAULT_MAX_DECOMPRESSED_BYTES) -> bytes:
    """Decompress gzip ``body`` (all members), never producing more than ``limit`` bytes."""
    if not body.startswith(_GZIP_MAGIC):
        raise DatasetReadError("the name ends in .gz but the content is not gzip-compressed")
    output = bytearray()
    pending = body
    while pending:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            while pending and not inflater.eof:
                output += inflater.decompress(pending, max(1, limit + 1 - len(output)))
                if len(output) > limit:
                    raise DatasetReadError(f"the gzip content expands beyond the limit of {limit} bytes")
                pending = inflater.unconsumed_tail
            output += inflater.flush()
        except zlib.error as error:
            raise DatasetReadError(f"the gzip content is corrupt: {error}") from error
        if not inflater.eof:
            raise DatasetReadError("the gzip content is truncated")
        pending = inflater.unused_data.lstrip(b"\x00")
        if pending and not pending.startswith(_GZIP_MAGIC):
            raise DatasetReadError("the gzip content has trailing garbage after its last member")
    if len(output) > limit:
        raise DatasetReadError(f"the gzip content expands beyond the limit of {limit} bytes")
    return bytes(output)


def check_not_empty(body: bytes) -> None:
    """Reject bytes with no content at all (or only whitespace)."""
    if not body or body.isspace():
        raise DatasetReadError("the file is empty")


def prepare_text(body: bytes) -> bytes:
    """Return UTF-8 text bytes without a BOM, or raise with a reason for binary or mis-encoded content."""
    for signature, meaning in _SIGNATURES:
        if body.startswith(signature):
            raise DatasetReadError(f"expected UTF-8 text but the content looks like {meaning}")
    if body.startswith(UTF8_BOM):
        body = body[len(UTF8_BOM) :]
    check_not_empty(body)
    position = body.find(b"\x00")
    if position >= 0:
        raise DatasetReadError(f"expected text but found binary content (a NUL byte at offset {position})")
    _check_utf8(body)
    return body


def _check_utf8(body: bytes) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(body)
    for start in range(0, len(body), _CHUNK):
        try:
            decoder.decode(view[start : start + _CHUNK])
        except UnicodeDecodeError as error:
            _raise_not_utf8(body, max(0, start + error.start - 3))
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        _raise_not_utf8(body, max(0, len(body) - 3))


def _raise_not_utf8(body: bytes, near: int) -> None:
    while near > 0 and body[near] & 0xC0 == 0x80:
        near -= 1
    window = body[near : near + 16]
    try:
        window.decode("utf-8")
    except UnicodeDecodeError as error:
        near += error.start
    raise DatasetReadError(
        f"the content is not valid UTF-8 (byte 0x{body[near]:02x} at offset {near}); "
        "re-save the file as UTF-8 (it may be latin-1/cp1252 or binary)"
    )
