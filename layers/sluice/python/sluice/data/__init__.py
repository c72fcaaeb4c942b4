"""Dataset intake: read a dropped file, validate it against a data contract, normalize and version it."""

from __future__ import annotations

from sluice.data.errors import ContractViolationError, DataError, DatasetReadError
from sluice.data.formats import FileKind, Format, detect_kind
from sluice.data.normalize import normalize
from sluice.data.parquet_io import from_parquet_bytes, to_parquet_bytes
from sluice.data.payload import DEFAULT_MAX_DECOMPRESSED_BYTES
from sluice.data.reader import read_dataset
from sluice.data.report import Example, Issue, Rule, Severity, ValidationReport
from sluice.data.validator import ContractValidator, validate
from sluice.data.versioning import data_version

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "ContractValidator",
    "ContractViolationError",
    "DataError",
    "DatasetReadError",
    "Example",
    "FileKind",
    "Format",
    "Issue",
    "Rule",
    "Severity",
    "ValidationReport",
    "data_version",
    "detect_kind",
    "from_parquet_bytes",
    "normalize",
    "read_dataset",
    "to_parquet_bytes",
    "validate",
]
