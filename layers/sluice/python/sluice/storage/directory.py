"""Objects as files: the S3 keys a step reads and writes, mapped onto local folders (a SageMaker job's
``/opt/ml/input/data/<channel>`` and ``/opt/ml/model``), so the same training code runs in Lambda and in a job."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol


class ObjectReader(Protocol):
    """What reading training data needs of a store."""

    def get_bytes(self, key: str) -> bytes: ...


class ObjectWriter(Protocol):
    """What writing a version's artifacts needs of a store."""

    def put_bytes(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None: ...

    def put_json(self, key: str, document: Any) -> None: ...


class DirectoryStore:
    """Keys under each prefix of ``roots`` live in that folder (the prefix stripped); any other key is refused."""

    def __init__(self, roots: Mapping[str, Path]) -> None:
        self._roots = sorted(roots.items(), key=lambda item: -len(item[0]))  # the longest prefix wins

    def path(self, key: str) -> Path:
        for prefix, root in self._roots:
            if key.startswith(prefix):
                relative = key[len(prefix):]
                if not relative or relative.startswith("/") or ".." in Path(relative).parts:
                    break
                return root / relative
        raise KeyError(f"{key!r} is under none of {', '.join(prefix for prefix, _ in self._roots)}")

    def get_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def put_bytes(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)

    def put_json(self, key: str, document: Any) -> None:
        self.put_bytes(key, json.dumps(document, indent=2, sort_keys=True, default=str).encode(), "application/json")
