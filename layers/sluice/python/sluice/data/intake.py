"""check_file: the one validation pipeline (Lambda and CLI alike): stream, validate, and normalize + version."""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from sluice.config.model import DataContract
from sluice.data.batches import open_batches
from sluice.data.errors import DatasetReadError
from sluice.data.normalize import normalize_batch, normalized_schema
from sluice.data.parquet_io import COMPRESSION
from sluice.data.payload import DEFAULT_MAX_DECOMPRESSED_BYTES
from sluice.data.report import ValidationReport
from sluice.data.validator import ContractValidator, contract_columns
from sluice.data.versioning import DataVersionHasher, contract_version

PARSER_ERRORS: tuple[type[Exception], ...] = (
    DatasetReadError, csv.Error, pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError,
    pa.ArrowCapacityError, UnicodeError, zlib.error, RecursionError,
)
"""What the readers raise on bytes they cannot parse (the file's fault, not the reader's): each becomes an
``unreadable`` issue. Errors of the source itself (an S3 read that times out) are not among them: they are
raised, so the event is retried instead of the file being quarantined."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one file: the report, and for an accepted file (when asked) its data version."""

    report: ValidationReport
    contract_version: str
    data_version: str | None = None

    @property
    def accepted(self) -> bool:
        return self.report.accepted

    @property
    def summary(self) -> str:
        return self.report.summary()

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: verdict, issues, summary, contract version and (accepted) data version."""
        return {**self.report.to_dict(), "summary": self.summary, "contract_version": self.contract_version,
                "data_version": self.data_version}


def check_file(
    file: BinaryIO, key: str, contract: DataContract, *, version: bool = False, sink: BinaryIO | None = None,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
) -> Verdict:
    """Validate ``file`` (format from ``key``'s extension) against ``contract`` in bounded memory.

    With ``version`` (or a ``sink``), an accepted file is also normalized batch by batch and hashed into
    its data version; a ``sink`` receives the normalized Parquet. Reading stops once the file has more
    rows than the contract allows. Never raises on bad data: unreadable bytes, and any error of a parser on
    them, become an ``unreadable`` issue.
    """
    normalizing = version or sink is not None
    schema = normalized_schema(contract)
    hasher = DataVersionHasher(schema) if normalizing else None
    writer = pq.ParquetWriter(sink, schema, compression=COMPRESSION) if sink is not None else None
    normalized_rows = 0
    try:
        floats = [spec.name for spec in contract.columns if spec.type == "float"]
        stream = open_batches(file, key, columns=contract_columns(contract), floats=floats,
                              max_decompressed_bytes=max_decompressed_bytes)
        validator = ContractValidator(contract, stream.names)
        for batch in stream:
            validator.update(batch)
            if validator.rows > contract.max_rows:
                validator.stopped = True
                break
            if hasher is not None and validator.clean:
                normalized = normalize_batch(batch, contract)
                hasher.update(normalized)
                if writer is not None:
                    writer.write_batch(normalized)
                normalized_rows += normalized.num_rows
                del normalized
            del batch  # not held while the next one is read
        report = validator.report()
    except PARSER_ERRORS as error:
        report = ValidationReport.unreadable(unreadable_reason(error))
    finally:
        if writer is not None:
            writer.close()
    data_version = None
    if hasher is not None and report.accepted:
        if normalized_rows != report.rows:
            raise RuntimeError(f"normalized {normalized_rows} of {report.rows} accepted rows")
        data_version = hasher.hexdigest()
    return Verdict(report, contract_version(contract), data_version)


def unreadable_reason(error: Exception) -> str:
    """The sentence of an ``unreadable`` issue: a DatasetReadError says it in plain words already; another
    parser error is named as such, with its own text."""
    if isinstance(error, DatasetReadError):
        return str(error)
    text = str(error) or type(error).__name__
    return f"cannot parse the file ({type(error).__name__}: {text})"
