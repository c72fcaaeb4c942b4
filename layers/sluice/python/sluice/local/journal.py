"""The timeline of a running `sluice local`, appended to a JSON Lines file other processes can follow."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from sluice.local.runtime import TimelineEntry


class TimelineJournal:
    """Appends timeline entries, one JSON object a line, flushed at once; readers resume from a byte offset."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def reset(self) -> TimelineJournal:
        """Start an empty journal (a new `sluice local`)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")
        return self

    def append(self, entry: TimelineEntry) -> None:
        line = json.dumps({"at": entry.at, "kind": entry.kind, "name": entry.name, "detail": entry.detail},
                          default=str)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def end(self) -> int:
        """The offset after the last complete entry (where a new reader starts)."""
        return self.path.stat().st_size if self.path.is_file() else 0

    def read(self, offset: int) -> tuple[list[TimelineEntry], int]:
        """The complete entries written since ``offset``, and the offset to read from next."""
        if not self.path.is_file():
            return [], offset
        with self.path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]  # a line still being written is read next time
        entries = []
        for line in complete.splitlines():
            document = json.loads(line)
            entries.append(TimelineEntry(at=float(document["at"]), kind=str(document["kind"]),
                                         name=str(document["name"]), detail=dict(document["detail"])))
        return entries, offset + len(complete)
