"""`python -m sluice.cli`."""

from __future__ import annotations

from sluice.cli.app import main

main()
