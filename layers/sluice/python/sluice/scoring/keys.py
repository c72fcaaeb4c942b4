"""Where batch scoring reads and writes: ``score/<model>/[v<N>/]<file>`` in, ``scored/<model>/...`` out."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sluice.storage.keys import SCORE, SCORED

_VERSION = re.compile(r"^v([1-9][0-9]{0,8})$")


@dataclass(frozen=True)
class ScoreRequest:
    """A file to score: its model, the version named in its key (None: the live version) and its name."""

    model: str
    key: str
    filename: str
    version: int | None

    def folder(self, etag: str) -> str:
        """``scored/<model>/<stem>-<digest>/``: one folder per dropped object (its key and content)."""
        digest = hashlib.sha256(f"{self.key}\0{etag}".encode()).hexdigest()[:12]
        stem = self.filename.rsplit(".", 1)[0][:60] or "file"
        return f"{SCORED}/{self.model}/{stem}-{digest}/"

    def output_prefix(self, version: int, etag: str) -> str:
        """The object's folder, one sub-folder per model version: ``.../v<N>/``."""
        return f"{self.folder(etag)}v{version}/"


def parse_score_key(key: str) -> ScoreRequest | None:
    """``score/<model>/<file>`` or ``score/<model>/v<N>/<file>``; None for any other key."""
    parts = key.split("/")
    if len(parts) not in (3, 4) or parts[0] != SCORE or not parts[1] or not parts[-1]:
        return None
    version = None
    if len(parts) == 4:
        named = _VERSION.match(parts[2])
        if named is None:
            return None
        version = int(named.group(1))
    return ScoreRequest(model=parts[1], key=key, filename=parts[-1], version=version)
