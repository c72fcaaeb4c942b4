"""Work around a skl2onnx 1.20 incompatibility with protobuf>=7 for HistGradientBoosting.

skl2onnx writes a Python ``False`` into the INTS attribute ``nodes_missing_value_tracks_true`` for every
leaf of a HistGradientBoosting tree; protobuf 7 rejects it ("Expected an int, got a boolean"). While
converting, the flag is coerced to an int. The patch is scoped to a ``with`` block and serialized.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from skl2onnx.common import tree_ensemble

_FLAG = "nodes_missing_value_tracks_true"
_LOCK = threading.Lock()


@contextmanager
def integer_missing_flags() -> Iterator[None]:
    """Within the block, skl2onnx writes the missing-value flag of tree nodes as an int."""
    with _LOCK:
        original = tree_ensemble.add_node

        def add_node(*args: Any, **kwargs: Any) -> Any:
            if _FLAG in kwargs:
                kwargs[_FLAG] = int(kwargs[_FLAG])
            return original(*args, **kwargs)

        tree_ensemble.add_node = add_node
        try:
            yield
        finally:
            tree_ensemble.add_node = original
