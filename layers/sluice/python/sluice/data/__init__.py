"""Dataset intake: read a dropped file, validate it against a data contract, normalize and version it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.data.batches import BatchStream, needs_seek, open_batches
    from sluice.data.errors import ContractViolationError, DataError, DatasetReadError
    from sluice.data.formats import FileKind, Format, detect_kind
    from sluice.data.intake import Verdict, check_file
    from sluice.data.normalize import normalize_batch, normalized_schema
    from sluice.data.parquet_io import from_parquet_bytes, from_parquet_file, to_parquet_bytes
    from sluice.data.payload import DEFAULT_MAX_DECOMPRESSED_BYTES
    from sluice.data.reader import read_dataset
    from sluice.data.report import Example, Issue, Rule, Severity, ValidationReport
    from sluice.data.validator import ContractValidator, contract_columns, validate
    from sluice.data.versioning import DataVersionHasher, contract_version, data_version

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
