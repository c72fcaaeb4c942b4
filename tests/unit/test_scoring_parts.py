"""Planning the parts of a large file to score (sluice.scoring.parts): whole records only, whatever the quoting."""

from __future__ import annotations

import csv
import io
import random

from sluice.scoring.parts import MAX_PARTS, Part, plan_delimited, plan_lines, plan_row_groups


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[start:start + size] for start in range(0, len(data), size)]


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


def quoted_csv(count: int, seed: int = 7) -> bytes:
    generator = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "note", "value"])
    for index in range(count):
        note = generator.choice(["plain", 'two\nlines', 'a "quoted"\nword, and\n\nmore', "", "x,y"])
        writer.writerow([index, note, generator.random()])
    return buffer.getvalue().encode()


def test_parts_of_a_csv_with_quoted_newlines_hold_whole_records_and_together_the_whole_file():
    # GIVEN a CSV whose quoted fields hold newlines, commas and escaped quotes
    data = quoted_csv(500)
    # WHEN it is planned in parts of 600 bytes, streamed in chunks of 37 bytes (quotes span chunks)
    plan = plan_delimited(chunked(data, 37), size=len(data), part_bytes=600)
    # THEN the parts cover every byte after the header once, in order
    assert plan.parts[0].start == plan.header_end == data.index(b"\n") + 1
    assert [part.end for part in plan.parts[:-1]] == [part.start for part in plan.parts[1:]]
    assert plan.parts[-1].end == len(data) and len(plan.parts) > 10
    # AND each part, read after the header, parses into exactly its own records
    header = data[:plan.header_end]
    parsed = [row for part in plan.parts for row in rows_of(header + data[part.start:part.end])[1:]]
    assert parsed == rows_of(data)[1:]


def test_a_boundary_that_falls_inside_a_quoted_field_moves_to_the_end_of_its_record():
    # GIVEN a record whose quoted field spans lines, with the target offset inside it
    data = b'id,note\n1,"first\nsecond\nthird"\n2,plain\n3,plain\n'
    # WHEN parts of 5 bytes are planned
    plan = plan_delimited([data], size=len(data), part_bytes=5)
    # THEN no part starts inside the quoted field
    starts = [part.start for part in plan.parts]
    assert starts[:2] == [8, data.index(b"2,plain")]


def test_a_quote_inside_an_unquoted_field_is_not_split():
    data = b'id,height\n1,5"10\n' + b"2,6\n" * 100
    plan = plan_delimited([data], size=len(data), part_bytes=10)
    assert plan.parts == () and "one worker" in plan.reason


def test_a_file_without_records_after_its_header_has_no_parts():
    assert plan_delimited([b"a,b\n"], size=4, part_bytes=1).parts == ()
    assert plan_delimited([b"a,b"], size=3, part_bytes=1).parts == ()


def test_json_lines_are_cut_after_a_newline():
    data = b"".join(b'{"i": %d, "text": "a\\nb"}\n' % index for index in range(50))
    plan = plan_lines(lambda offset: data.find(b"\n", offset) if data.find(b"\n", offset) >= 0 else None,
                      size=len(data), part_bytes=100)
    pieces = [data[part.start:part.end] for part in plan.parts]
    assert b"".join(pieces) == data and all(piece.endswith(b"\n") for piece in pieces) and len(pieces) > 5


def test_parquet_parts_are_consecutive_row_groups_of_about_the_part_size():
    plan = plan_row_groups([40, 40, 40, 100, 10, 10], part_bytes=80)
    assert [part.row_groups for part in plan.parts] == [(0, 1), (2,), (3,), (4, 5)]
    assert plan_row_groups([], part_bytes=1).parts == ()


def test_parts_grow_so_the_plan_fits_the_execution_input():
    data = b"a\n" + b"1\n" * 10_000
    plan = plan_delimited(chunked(data, 4096), size=len(data), part_bytes=1)
    assert len(plan.parts) <= MAX_PARTS
    assert Part.from_dict(plan.parts[3].to_dict()) == plan.parts[3]
