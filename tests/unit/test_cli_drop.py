"""`sluice drop` names objects only inside incoming/<model>/ and drops only non-empty regular files (pure checks)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sluice.cli.drop_command import checked_file, incoming_key, object_name
from sluice.cli.errors import RefusedError


@pytest.mark.parametrize("name", ["", " ", ".", "..", "../../x", "/etc/passwd", "a/b.csv", "a\\b.csv", "C:\\x.csv",
                                  "a\x00b", "tab\there", "bell\x07", "del\x7f", "line\nbreak", "bad\udcffbyte"])
def test_a_name_that_would_leave_the_prefix_or_break_the_key_is_refused(name: str) -> None:
    # GIVEN an object name that is empty, a path step, a path, or holds a control character or invalid Unicode
    # WHEN it is checked THEN the drop is refused, naming --name
    with pytest.raises(RefusedError, match="pass --name NAME"):
        object_name(name)


@pytest.mark.parametrize("name", ["data.csv", "March 2026.csv", "données-été.parquet", "a..b.csv", ".hidden.csv"])
def test_a_plain_file_name_is_kept_as_given(name: str) -> None:
    assert incoming_key("breast-cancer", name) == f"incoming/breast-cancer/{name}"


def test_a_key_beyond_s3s_1024_bytes_is_refused() -> None:
    # GIVEN names of 2-byte characters: a key within 1,024 UTF-8 bytes is kept, one beyond it refused
    prefix = len(b"incoming/m/")
    fits = "é" * ((1024 - prefix) // 2)
    assert incoming_key("m", fits).endswith(fits)
    with pytest.raises(RefusedError, match="1024 bytes"):
        incoming_key("m", fits + "éé")


def test_only_a_readable_non_empty_regular_file_is_dropped(tmp_path: Path) -> None:
    data, empty, fifo = tmp_path / "data.csv", tmp_path / "empty.csv", tmp_path / "pipe"
    data.write_bytes(b"a,b\n1,2\n")
    empty.write_bytes(b"")
    os.mkfifo(fifo)
    assert checked_file(data) == 8
    for path, says in ((empty, "it is empty"), (tmp_path, "it is a directory"), (fifo, "not a regular file"),
                       (tmp_path / "gone.csv", "No such file")):
        with pytest.raises(RefusedError, match=says):
            checked_file(path)
