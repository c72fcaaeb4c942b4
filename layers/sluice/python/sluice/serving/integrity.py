"""Check artifacts against their recorded sha256 before they are loaded."""

from __future__ import annotations

import hashlib
import hmac
import re

from sluice.serving.errors import IntegrityError

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(data: bytes) -> str:
    """The lowercase hex sha256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def verify_sha256(data: bytes, expected_hex: str) -> None:
    """Raise ``IntegrityError`` unless ``data`` hashes to ``expected_hex``."""
    expected = expected_hex.strip().lower() if isinstance(expected_hex, str) else ""
    if not _SHA256_HEX.match(expected):
        raise IntegrityError(f"expected sha256 must be 64 hex characters, got {expected_hex!r}")
    actual = sha256_hex(data)
    if not hmac.compare_digest(actual, expected):
        raise IntegrityError(f"sha256 mismatch: expected {expected}, got {actual} ({len(data)} bytes)")
