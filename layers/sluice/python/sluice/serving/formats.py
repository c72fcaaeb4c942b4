"""A version's served format, as its signature.json names it."""

from __future__ import annotations

ONNX_FORMAT, SKLEARN_FORMAT = "onnx", "sklearn"
"""A version's served format (``format`` in its signature.json): ONNX unless the export disagreed."""
