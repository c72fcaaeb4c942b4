"""The data contract's value rules in pure Python, shared by validation (Arrow) and the endpoint (no pandas)."""

from __future__ import annotations
