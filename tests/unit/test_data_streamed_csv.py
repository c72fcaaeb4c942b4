"""check_file on a CSV of many blocks: blocks are parsed on worker threads, and nothing depends on that."""

from __future__ import annotations

import io
import threading

import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

from sluice.config import ColumnSpec, DataContract
from sluice.data import (
    ValidationReport,
    Verdict,
    check_file,
    data_version,
    delimited,
    open_batches,
    read_dataset,
    validate,
)
from sluice.data.normalize import normalize

CONTRACT = DataContract(
    columns=(ColumnSpec("x", "float", min=0, max=100), ColumnSpec("n", "int", min=0, max=9),
             ColumnSpec("kind", "string", allowed=("a", "b"))),
    target="y", target_type="string", target_values=("yes", "no"), min_rows=1)
ROWS = 300_000  # about 4.5 MB: three blocks of 2 MiB
BAD_ROWS = {7: "abc", 150_001: "nan", 299_998: "-1"}  # 1-based data rows, in three different blocks


def _body(bad: dict[int, str]) -> bytes:
    lines = ["x,n,kind,y"]
    for row in range(1, ROWS + 1):
        x = bad.get(row, f"{row % 97}.25")
        lines.append(f'{x},{row % 10},"{"ab"[row % 2]}",{("yes", "no")[row % 2]}')
    return ("\n".join(lines) + "\n").encode()


def _check(body: bytes, threads: int, monkeypatch: pytest.MonkeyPatch, contract: DataContract = CONTRACT) -> Verdict:
    monkeypatch.setattr(delimited, "MAX_PARSE_THREADS", threads)
    return check_file(io.BytesIO(body), "drop.csv", contract, version=True)


@pytest.mark.parametrize("threads", [1, 4])
def test_bad_values_in_several_blocks_are_reported_at_their_rows(threads: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a file of three blocks with a bad float in each (text, NaN, out of range)
    # WHEN it is checked with one parsing thread or four
    report = _check(_body(BAD_ROWS), threads, monkeypatch).report
    # THEN every value is found at its row, whichever thread parsed its block
    found = {(str(issue.rule), example.row, example.to_dict()["value"]) for issue in report.issues
             for example in issue.examples}
    # (a block whose floats all parse shows them as numbers; the block with "abc" was read as text)
    assert found == {("type", 7, "abc"), ("non_finite", 150_001, "nan"), ("out_of_range", 299_998, -1.0)}
    assert report.rows == ROWS


def test_the_data_version_does_not_depend_on_the_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a clean file of three blocks / WHEN checked with 1, 2 and 4 parsing threads
    body = _body({})
    verdicts = [_check(body, threads, monkeypatch) for threads in (1, 2, 4)]
    # THEN it is accepted with the same rows and the same data version each time
    assert all(verdict.accepted and verdict.report.rows == ROWS for verdict in verdicts)
    assert len({verdict.data_version for verdict in verdicts}) == 1


def test_stopping_early_leaves_no_parsing_thread_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a contract allowing fewer rows than the first block holds
    capped = DataContract(CONTRACT.columns, CONTRACT.target, "string", CONTRACT.target_values, min_rows=1,
                          max_rows=1_000)
    before = {thread.name for thread in threading.enumerate()}
    # WHEN the big file is checked / THEN reading stops with too_many_rows ...
    report = _check(_body({}), 4, monkeypatch, capped).report
    assert [str(issue.rule) for issue in report.issues] == ["too_many_rows"]
    # ... and the parsing threads have ended
    assert {thread.name for thread in threading.enumerate()} - before == set()


def test_batches_kept_after_their_buffers_are_read_into_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a file of three blocks, read with one thread (so block buffers are recycled soonest)
    monkeypatch.setattr(delimited, "MAX_PARSE_THREADS", 1)
    body = _body(BAD_ROWS)
    with io.BytesIO(body) as file:
        batches = list(open_batches(file, "drop.csv"))
    # WHEN every batch is kept until the end / THEN each still holds its own rows, as a one-shot parse reads them
    expected = pa_csv.read_csv(io.BytesIO(body), convert_options=pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in ("x", "n", "kind", "y")}, strings_can_be_null=True,
        null_values=[""]))
    assert len(batches) >= 3
    assert pa.Table.from_batches(batches).equals(expected)


@pytest.mark.parametrize("padded", [False, True])
def test_null_tokens_in_float_columns_keep_the_verdict_and_the_version(padded: bool) -> None:
    # GIVEN null tokens in a float column ("NA", "null", "N/A"; padded ones take the text path), and "" and "NA"
    # in int and string columns, where "NA" is missing for the int and a value for the string
    contract = DataContract(
        columns=(ColumnSpec("x", "float", nullable=True), ColumnSpec("n", "int", nullable=True),
                 ColumnSpec("s", "string", nullable=True)),
        target="y", target_type="string", min_rows=1, max_null_fraction=0.9)
    token = " NA " if padded else "NA"
    rows = [f"{token},1,a,yes", "null,,NA,no", "N/A,NA,,yes", "1.5,2,b,no", ",3,c,yes", "nan,4,d,no"]
    body = ("x,n,s,y\n" + "\n".join(rows) + "\n").encode()
    # WHEN checked as the Lambda does, and validated from an all-text read
    verdict = check_file(io.BytesIO(body), "drop.csv", contract, version=True)
    table = read_dataset(body, "drop.csv")
    # THEN both agree on every issue (a typed block shows its example as a number) and on the data version
    def issues(report: ValidationReport) -> list[tuple[object, ...]]:
        return [(issue.rule, issue.column, issue.count, issue.message, [example.row for example in issue.examples])
                for issue in report.issues]

    assert issues(verdict.report) == issues(validate(table, contract))
    assert [str(issue.rule) for issue in verdict.report.issues] == ["non_finite"]
    text_only = check_file(io.BytesIO(body.replace(b"nan", b"0.5")), "drop.csv", contract, version=True)
    assert text_only.accepted
    assert text_only.data_version == data_version(normalize(read_dataset(body.replace(b"nan", b"0.5"), "d.csv"),
                                                            contract))
