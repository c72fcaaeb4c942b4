"""What raw bytes must not look like before a text parser sees them, and how to say so."""

from __future__ import annotations

import codecs

DEFAULT_MAX_DECOMPRESSED_BYTES = 2 * 1024**3
UTF8_BOM = codecs.BOM_UTF8
GZIP_MAGIC = b"\x1f\x8b"
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (GZIP_MAGIC, "gzip-compressed data (add .gz to the name)"),
    (b"PAR1", "a Parquet file (name it .parquet)"),
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook (export it as CSV)"),
    (b"\xd0\xcf\x11\xe0", "a legacy Office document (export it as CSV)"),
    (codecs.BOM_UTF16_LE, "UTF-16 text (save it as UTF-8)"),
    (codecs.BOM_UTF16_BE, "UTF-16 text (save it as UTF-8)"),
)


def not_utf8_message(byte: int, offset: int) -> str:
    """The reason given for the first byte that is not valid UTF-8."""
    return (
        f"the content is not valid UTF-8 (byte 0x{byte:02x} at offset {offset}); "
        "re-save the file as UTF-8 (it may be latin-1/cp1252 or binary)"
    )
