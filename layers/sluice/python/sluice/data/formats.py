"""Which reader a dropped object needs, decided by its key's extension."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sluice.data.errors import DatasetReadError


class Format(StrEnum):
    """A tabular file format sluice can read."""

    CSV = "csv"
    TSV = "tsv"
    PARQUET = "parquet"
    JSONL = "jsonl"


@dataclass(frozen=True)
class FileKind:
    """A format plus whether the bytes are gzip-compressed."""

    format: Format
    gzipped: bool = False

    @property
    def is_text(self) -> bool:
        return self.format is not Format.PARQUET


EXTENSIONS: dict[str, FileKind] = {
    ".csv": FileKind(Format.CSV),
    ".csv.gz": FileKind(Format.CSV, gzipped=True),
    ".tsv": FileKind(Format.TSV),
    ".tsv.gz": FileKind(Format.TSV, gzipped=True),
    ".parquet": FileKind(Format.PARQUET),
    ".jsonl": FileKind(Format.JSONL),
    ".jsonl.gz": FileKind(Format.JSONL, gzipped=True),
    ".ndjson": FileKind(Format.JSONL),
    ".ndjson.gz": FileKind(Format.JSONL, gzipped=True),
}


def detect_kind(key: str) -> FileKind:
    """Return the kind of file ``key`` names (case-insensitive), or raise DatasetReadError."""
    name = key.rsplit("/", 1)[-1].lower()
    for extension in sorted(EXTENSIONS, key=len, reverse=True):
        if name.endswith(extension):
            return EXTENSIONS[extension]
    supported = ", ".join(EXTENSIONS)
    raise DatasetReadError(f"unsupported file type {key.rsplit('/', 1)[-1]!r}: expected one of {supported}")
