"""Every parser error is a rejection with a report, never an exception; unbalanced quotes are named as such."""

from __future__ import annotations

import csv
import io
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from sluice.config import ColumnSpec, DataContract, load_config
from sluice.data import check_file, intake
from sluice.data.batches import BatchStream
from sluice.data.delimited import unclosed_quote_line
from sluice.data.ndjson import nests_deeper_than
from tests.conftest import HANG_GUARD_S

CONTRACT = DataContract(
    columns=(ColumnSpec("id", "int", unique=True), ColumnSpec("kind", "string"), ColumnSpec("x", "float")),
    target="y", target_type="string", target_values=("yes", "no"), positive="yes", min_rows=1,
    max_rows=1_000_000)


def _body(rows: int, edit: dict[int, str] | None = None) -> bytes:
    """A clean CSV of ``rows`` data rows; ``edit`` replaces whole data lines (1-based data rows)."""
    lines = ["id,kind,x,y", *(f"{row},k{row % 3},{row / 4},{('yes', 'no')[row % 2]}" for row in range(1, rows + 1))]
    for row, line in (edit or {}).items():
        lines[row] = line
    return ("\n".join(lines) + "\n").encode()


def _unreadable(body: bytes) -> str:
    verdict = check_file(io.BytesIO(body), "drop.csv", CONTRACT, version=True)
    assert not verdict.accepted and verdict.data_version is None
    (issue,) = verdict.report.errors
    assert issue.rule == "unreadable", verdict.summary
    return issue.message


def test_a_quote_never_closed_early_in_a_large_file_is_a_rejection_naming_its_line() -> None:
    # GIVEN 20,000 rows where data row 50 opens a quote that is never closed (the quoted value grows past
    # Python's csv field limit of 128 KB, which used to crash validation with "field larger than field limit")
    body = _body(20_000, {50: '50,"k2,12.5,no'})
    # WHEN checked / THEN no exception: a rejection that names the unbalanced quote and its line (header = 1)
    message = _unreadable(body)
    assert "unbalanced quotes" in message and "line 51" in message


def test_a_quote_opened_in_the_last_column_is_a_rejection_not_a_swallowed_value() -> None:
    # GIVEN a quote opened in the target column: every value after it would be one long target value
    message = _unreadable(_body(300, {100: '100,k1,25.0,"no'}))
    # THEN the file is rejected as unbalanced at line 101, not judged on a 200-line target value
    assert "unbalanced quotes" in message and "line 101" in message


def test_a_quote_inside_an_unquoted_value_is_text_not_an_open_quote() -> None:
    # GIVEN a value with a literal quote inside it (5'10" style): CSV reads it as text
    verdict = check_file(io.BytesIO(_body(20, {3: '3,5ft10",0.75,yes'})), "drop.csv", CONTRACT)
    # THEN it is read as the text it is, and the file is accepted
    assert verdict.accepted, verdict.summary


@pytest.mark.parametrize(("block", "line"), [
    (b'a,b\n1,"x\n2,3\n', 2),  # opened at the start of a field
    (b'a,"b ""c"" d"\n1,"open\n', 2),  # escaped quotes before the open one
    (b'"x,\ny"\n"z\n', 3),
])
def test_the_line_of_the_open_quote_is_found(block: bytes, line: int) -> None:
    assert unclosed_quote_line(block, ",") == line


@pytest.mark.parametrize("block", [b'a,"b"\n', b'a,b"c\n', b'a,"b""c"\n', b"a,b\n"])
def test_balanced_or_literal_quotes_leave_nothing_open(block: bytes) -> None:
    assert unclosed_quote_line(block, ",") is None


@pytest.mark.parametrize("error", [pa.ArrowInvalid("CSV parse error: bad"), UnicodeDecodeError(
    "utf-8", b"\xff", 0, 1, "invalid start byte"), csv.Error("field larger than field limit")])
def test_any_parser_error_while_reading_becomes_an_unreadable_report(monkeypatch: pytest.MonkeyPatch,
                                                                     error: Exception) -> None:
    # GIVEN a reader that fails half-way through with an error of its parser (not a DatasetReadError)
    def failing(*_: object, **__: object) -> BatchStream:
        def batches() -> Iterator[pa.RecordBatch]:
            yield pa.record_batch({"id": ["1"], "kind": ["a"], "x": ["1"], "y": ["yes"]})
            raise error
        return BatchStream(["id", "kind", "x", "y"], batches())

    monkeypatch.setattr(intake, "open_batches", failing)
    # WHEN the file is checked / THEN a rejection whose reason names the parser error, no exception
    message = _unreadable(b"ignored")
    assert message.startswith("cannot parse the file") and type(error).__name__ in message


def test_a_failing_source_is_raised_not_quarantined(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a source whose read fails (a network error: not the file's fault)
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            raise ConnectionResetError("connection reset by peer")

    # WHEN checked / THEN the error is raised (the event is retried), not turned into a rejection
    with pytest.raises(ConnectionResetError):
        check_file(Broken(), "drop.csv", CONTRACT)


@pytest.mark.parametrize("rows", [3, 20_000])
def test_a_header_that_opens_a_quote_it_never_closes_is_named_as_such(rows: int) -> None:
    # GIVEN a header whose first name opens a quote (small file; file past the header's 1 MB limit)
    body = b'"' + _body(rows)
    # WHEN checked / THEN unbalanced quotes at line 1, not "missing columns" or "header row too long"
    message = _unreadable(body)
    assert message.startswith("unbalanced quotes: line 1 opens a quoted value")


HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"
SHAPES = ["good.csv", "good.tsv", "quoted_newlines.csv", "good.jsonl", "good.ndjson.gz", "good.csv.gz", "good.parquet"]
INSERTS = [b'"', b",", b"\t", b"\n", b"\r", b"\\", b"{", b"[", b"\x00", b'""', b"NaN", b"\xff", b"9" * 30]


def _mutated(body: bytes, rng: random.Random) -> bytes:
    """``body`` with a few random edits: a byte changed, a hostile token inserted, bytes cut, or truncated."""
    data = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        at, edit = rng.randrange(len(data) + 1), rng.random()
        if edit < 0.35 and at < len(data):
            data[at] = rng.randrange(256)
        elif edit < 0.65:
            data[at:at] = rng.choice(INSERTS)
        elif edit < 0.9:
            del data[at:at + rng.randint(1, 24)]
        else:
            del data[at:]
    return bytes(data)


@pytest.mark.parametrize("shape", SHAPES)
def test_no_mutation_of_a_good_file_makes_validation_raise(shape: str) -> None:
    # GIVEN 150 damaged copies of a good file of each format (fixed seeds: the same copies on every run)
    contract = load_config(HOSTILE / "sluice.toml").model("hostile").contract
    body = (HOSTILE / shape).read_bytes()
    rng = random.Random(shape)
    for _ in range(150):
        damaged = _mutated(body, rng)
        # WHEN each is checked / THEN a verdict, never an exception: a rejection names at least one error,
        # an acceptance has its data version
        verdict = check_file(io.BytesIO(damaged), shape, contract, version=True)
        assert verdict.accepted == (verdict.data_version is not None)
        errors = verdict.report.errors
        assert verdict.accepted or (errors and all(issue.message for issue in errors)), verdict.summary


DEEP_PROBE = """
import io, sys
from sluice.config import load_config
from sluice.data import check_file
contract = load_config(sys.argv[1]).model("hostile").contract
body = b'{"id": 1, "amount": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\\n"
print(check_file(io.BytesIO(body), "deep.jsonl", contract).summary)
"""


def test_json_nested_100000_deep_is_a_rejection_not_a_dead_process() -> None:
    # GIVEN a JSON line nesting 100,000 arrays (Arrow's JSON reader recurses in C++ and segfaults on it)
    # WHEN it is checked in a fresh interpreter (a crash must fail this test, not kill the test run)
    done = subprocess.run([sys.executable, "-c", DEEP_PROBE, str(HOSTILE / "sluice.toml")], capture_output=True,
                          text=True, timeout=HANG_GUARD_S, check=False)
    # THEN the process lives and the file is rejected as unreadable, naming the line
    assert done.returncode == 0, done.stderr[-2000:]
    assert "REJECTED" in done.stdout and "line 1 nests values too deeply" in done.stdout


@pytest.mark.parametrize(("block", "deeper"), [
    (b"[" * 6_000 + b"]" * 6_000 + b"\n", True),
    (b'{"a":' * 3_000 + b"1" + b"}" * 3_000 + b"\n", False),  # 3,000 deep: Arrow reads that
    (b'{"a": "' + b"[" * 9_000 + b'"}\n', True),  # brackets in a string: a false alarm, the tolerant reader
    (b'{"id": 1, "tags": ["a", {"b": [1]}]}\n' * 50_000, False),
    (b"", False),
])
def test_nesting_depth_is_measured_across_slices(block: bytes, deeper: bool) -> None:
    assert nests_deeper_than(block, 5_000) is deeper


def test_a_ragged_row_next_to_a_quoted_value_past_the_csv_field_limit_is_reported_not_raised() -> None:
    # GIVEN a legitimately quoted 200 KB value (closed) and, later in the same block, a row with a missing field
    # (locating that row re-reads the block with Python's csv module, whose field limit is 128 KB)
    body = _body(300, {10: '10,"' + "long text, " * 20_000 + '",2.5,no', 200: "200,k2,no"})
    # WHEN checked / THEN the ragged row is reported, with no exception
    message = _unreadable(body)
    assert "1 row(s) do not have the 4 fields of the header" in message
