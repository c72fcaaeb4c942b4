"""The `sluice` command line."""

from __future__ import annotations

from sluice.cli.app import app, main

__all__ = ["app", "main"]
