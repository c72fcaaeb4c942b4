"""CSV and TSV, streamed: cut into blocks of whole records, parsed on worker threads, yielded in file order.

Every column is read as text (floats are tried as float64 first), so type checks belong to the contract,
not to a guesser.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import deque
from collections.abc import Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import BinaryIO, cast

import pyarrow as pa
import pyarrow.csv as pa_csv

from sluice.data.blocks import BLOCK_SIZE, MAX_ROW_BYTES, BlockReader, count_byte
from sluice.data.convert import NULL_TOKENS
from sluice.data.errors import DatasetReadError
from sluice.data.textstream import Replay

HEADER_LIMIT = 1024 * 1024
MAX_REPORTED_ROWS = 5
MAX_PARSE_THREADS = 4
# The contract's null tokens as Arrow matches them (exactly): the usual spellings; others take the text path.
ARROW_NULL_TOKENS = sorted({spelling for token in NULL_TOKENS
                            for spelling in (token, token.upper(), token.capitalize())})
_PEEK = 64 * 1024


@cache
def parse_pool() -> pa.MemoryPool:
    """jemalloc when pyarrow has it: parsed blocks are allocated on worker threads and freed on the caller's,
    and the default mimalloc pool then keeps 20-35 MB more resident on a 1M-row file (measured). Chosen on
    first use, so importing sluice.data does not start an allocator."""
    if "jemalloc" in pa.supported_memory_backends():
        return pa.jemalloc_memory_pool()
    return pa.default_memory_pool()


@dataclass
class _BlockRows:
    """Rows of one block whose field count differs from the header's, numbered within the block."""

    count: int = 0
    expected: int = 0
    examples: list[tuple[int | None, int, str]] = field(default_factory=list)
    unclosed: int | None = None
    """The line (within the block) of a quote that is never closed, when the block ends inside a quoted value."""

    def __call__(self, row: pa_csv.InvalidRow) -> str:
        self.count += 1
        self.expected = row.expected_columns
        if len(self.examples) < MAX_REPORTED_ROWS:
            self.examples.append((row.number, row.actual_columns, _shortened(row.text)))
        return "skip"

    def locate(self, block: memoryview, delimiter: str) -> None:
        """Replace Arrow's row numbers (they skip blank lines and count a multi-line record once) by the line
        each example starts on, found by reading the block again with Python's csv module.

        Runs only for a block with malformed rows (the file is rejected anyway), and keeps Arrow's numbers
        if the two readers disagree on which records are malformed or Python's reader cannot read the block
        (a quoted value longer than its field limit).
        """
        located = []
        reader = csv.reader(io.StringIO(bytes(block).decode("utf-8", errors="replace"), newline=""),
                            delimiter=delimiter)
        line = 1
        try:
            for record in reader:
                if record and len(record) != self.expected:
                    located.append(line)
                    if len(located) == len(self.examples):
                        break
                line = reader.line_num + 1
        except csv.Error:
            return
        if len(located) == len(self.examples):
            self.examples = [(start, actual, text) for start, (_, actual, text) in zip(located, self.examples,
                                                                                      strict=True)]


@dataclass
class _MalformedRows:
    """The malformed rows of the whole file, added block by block in file order (``lines`` lines came before)."""

    lines: int
    count: int = 0
    expected: int = 0
    examples: list[str] = field(default_factory=list)
    unclosed: int | None = None

    def add(self, rows: _BlockRows, newlines: int) -> None:
        """Count the malformed rows of the next block, which holds ``newlines`` line breaks."""
        self.count += rows.count
        self.expected = rows.expected or self.expected
        if rows.unclosed is not None and self.unclosed is None:
            self.unclosed = rows.unclosed + self.lines
        for number, actual, text in rows.examples[: MAX_REPORTED_ROWS - len(self.examples)]:
            where = f"line {number + self.lines}" if number is not None else "a row"
            self.examples.append(f"{where} has {actual} ({text!r})")
        self.lines += newlines

    def check(self) -> None:
        if self.unclosed is not None:
            raise DatasetReadError(
                f"unbalanced quotes: line {self.unclosed} opens a quoted value that is never closed, so every "
                "line after it is read as part of that value (close the quote, or double a quote inside a "
                'quoted value: "")'
            )
        if self.count:
            raise DatasetReadError(
                f"{self.count} row(s) do not have the {self.expected} fields of the header: "
                + "; ".join(self.examples)
            )


@dataclass(frozen=True)
class _ParsedBlock:
    """One block parsed: its batches (none for a blank block), its malformed rows and its line breaks."""

    batches: list[pa.RecordBatch]
    rows: _BlockRows
    newlines: int


@dataclass(frozen=True)
class _BlockParser:
    """Parses one block of whole records with the first conversion options that convert every value.

    Safe to call from several threads at once: each call has its own options and row collector.
    """

    header: list[str]
    delimiter: str
    options: list[pa_csv.ConvertOptions]

    def __call__(self, block: memoryview) -> _ParsedBlock:
        read_options = pa_csv.ReadOptions(use_threads=False, block_size=2 * BLOCK_SIZE + MAX_ROW_BYTES,
                                          column_names=self.header)
        newlines = count_byte(block, b"\n")
        for attempt, convert_options in enumerate(self.options, start=1):
            rows = _BlockRows()
            parse_options = pa_csv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True,
                                                invalid_row_handler=rows)
            try:
                table = pa_csv.read_csv(pa.BufferReader(pa.py_buffer(block)), read_options=read_options,
                                        parse_options=parse_options, convert_options=convert_options,
                                        memory_pool=parse_pool())
            except pa.ArrowInvalid as error:
                if "Empty CSV file" in str(error):
                    return _ParsedBlock([], rows, newlines)
                if attempt == len(self.options):
                    raise DatasetReadError(f"cannot parse the file as delimited text: {error}") from error
                continue
            rows.unclosed = unclosed_quote_line(block, self.delimiter)
            if rows.count:
                rows.locate(block, self.delimiter)
            return _ParsedBlock(table.combine_chunks().to_batches(), rows, newlines)
        raise AssertionError("unreachable: the last options read every value as text, or raise")


def open_delimited(
    text: BinaryIO, *, delimiter: str, columns: Collection[str] | None = None, floats: Collection[str] = ()
) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """The header of UTF-8 delimited ``text`` and an iterator of string batches (only ``columns`` if given).

    Columns named in ``floats`` are parsed as float64 straight away when a whole block allows it (the
    common case, and much faster), null tokens such as "NA" included; a block with any other value in them
    is read as text instead, so the contract judges each value exactly as it would have.

    The iterator raises DatasetReadError for rows with the wrong number of fields (after the last batch)
    or for rows longer than the block size.
    """
    header, lines, rest, at_end = _read_header(text, delimiter)
    wanted = [name for name in header if columns is None or name in columns] or header[:1]
    source = cast(BinaryIO, Replay(rest, text))
    if at_end and not rest.strip():
        return header, iter(())
    return header, _batches(_BlockParser(header, delimiter, _conversions(header, wanted, floats)),
                            _MalformedRows(lines), source)


def _conversions(header: list[str], wanted: list[str], floats: Collection[str]) -> list[pa_csv.ConvertOptions]:
    """The ways to convert a block, tried in order until one converts every value.

    1. ``floats`` as float64, "" as null (the common case). 2. The same, also taking the null tokens ("NA",
    "null", ...) as null, which Arrow can only do for every column at once: so no text column may be null
    there, and the contract reads its "" and "NA" itself. 3. Everything as text.
    """
    typed = {name: pa.float64() for name in wanted if name in floats}
    as_text = {name: pa.string() for name in header}
    common = {"include_columns": wanted, "quoted_strings_can_be_null": True, "check_utf8": False}
    everything_as_text = pa_csv.ConvertOptions(column_types=as_text, strings_can_be_null=True, null_values=[""],
                                               **common)
    if not typed:
        return [everything_as_text]
    return [
        pa_csv.ConvertOptions(column_types={**as_text, **typed}, strings_can_be_null=True, null_values=[""],
                              **common),
        pa_csv.ConvertOptions(column_types={**as_text, **typed}, strings_can_be_null=False,
                              null_values=ARROW_NULL_TOKENS, **common),
        everything_as_text,
    ]


def unclosed_quote_line(block: memoryview | bytes, delimiter: str) -> int | None:
    """The line (from 1) of the quote that opens a value left unclosed at the end of ``block``, or None.

    A quote opens a quoted value only at the start of a field (a quote inside an unquoted value is text);
    inside, ``""`` is an escaped quote. Quotes that pair up cannot leave one open, so only a block with an
    odd number of quotes is scanned.
    """
    if count_byte(block, b'"') % 2 == 0:
        return None
    for match in _quoted_value(delimiter).finditer(block):
        if not match.group(1):
            return bytes(block[: match.start()]).count(b"\n") + 1
    return None


@cache
def _quoted_value(delimiter: str) -> re.Pattern[bytes]:
    """A quoted value from its opening quote (at the start of a field) to its closing quote, if any."""
    starts = re.escape(delimiter.encode())
    return re.compile(rb'(?:^|(?<=[\n' + starts + rb']))"[^"]*(?:""[^"]*)*("?)')


def _shortened(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def parse_threads() -> int:
    """Blocks parsed at once: the CPUs this process may use (all of them where that is unknown, as on
    macOS), at most MAX_PARSE_THREADS."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return max(1, min(MAX_PARSE_THREADS, len(usable)))


def _batches(parse: _BlockParser, malformed: _MalformedRows, source: BinaryIO) -> Iterator[pa.RecordBatch]:
    """Parse blocks on worker threads (Arrow releases the GIL), yielding their batches in file order.

    Two blocks per thread are in flight (one keeps each thread busy while the caller checks the other), so
    memory stays bounded by a few blocks.
    """
    threads = parse_threads()
    reader = BlockReader(source)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sluice-csv") as pool:
        in_flight: deque[tuple[Future[_ParsedBlock], bytearray]] = deque()
        try:
            for block, buffer in reader.blocks():
                in_flight.append((pool.submit(parse, block), buffer))
                del block
                if len(in_flight) >= 2 * threads:
                    yield from _take(*in_flight.popleft(), malformed, reader)
            while in_flight:
                yield from _take(*in_flight.popleft(), malformed, reader)
        finally:
            for future, _ in in_flight:
                future.cancel()
    malformed.check()


def _take(future: Future[_ParsedBlock], buffer: bytearray, malformed: _MalformedRows,
          reader: BlockReader) -> Iterator[pa.RecordBatch]:
    """The batches of a parsed block (they hold copies: its buffer is free to be read into again)."""
    parsed = future.result()
    reader.recycle(buffer)
    malformed.add(parsed.rows, parsed.newlines)
    yield from parsed.batches


def _read_header(text: BinaryIO, delimiter: str) -> tuple[list[str], int, bytes, bool]:
    """Parse the first non-blank record (quotes and all); return it, its line count, the bytes after it, EOF."""
    buffer = b""
    while True:
        chunk = text.read(_PEEK)
        buffer += chunk
        found = _first_record(buffer, delimiter, at_end=not chunk)
        if found is not None:
            record, consumed, lines = found
            _check_header_quotes(buffer[:consumed], delimiter)
            return record, lines, buffer[consumed:], not chunk
        if not chunk:
            raise DatasetReadError("the file has no header row")
        if len(buffer) > HEADER_LIMIT:
            _check_header_quotes(buffer, delimiter)
            raise DatasetReadError(f"the header row is longer than {HEADER_LIMIT // 1024} KB (is this a CSV file?)")


def _check_header_quotes(header: bytes, delimiter: str) -> None:
    """Reject a header that opens a quoted value it never closes (it would swallow the rows after it)."""
    line = unclosed_quote_line(header, delimiter)
    if line is not None:
        raise DatasetReadError(f"unbalanced quotes: line {line} opens a quoted value that is never closed, so the "
                               "header row runs on into the rows after it (close the quote)")


def _first_record(buffer: bytes, delimiter: str, *, at_end: bool) -> tuple[list[str], int, int] | None:
    consumed = [0, 0, True]

    def lines() -> Iterator[str]:
        for line in buffer.splitlines(keepends=True):
            consumed[0] += len(line)
            consumed[1] += 1
            consumed[2] = line.endswith((b"\n", b"\r"))
            yield line.decode("utf-8", errors="replace")

    try:
        for record in csv.reader(lines(), delimiter=delimiter):
            if record:
                complete = bool(consumed[2]) or at_end
                return (record, int(consumed[0]), int(consumed[1])) if complete else None
    except csv.Error as error:
        if not at_end:
            return None
        raise DatasetReadError(f"cannot parse the header row: {error}") from error
    return None
