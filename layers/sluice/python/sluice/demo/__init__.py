"""The demo: the whole model lifecycle on the embedded local AWS."""

from __future__ import annotations

from sluice.demo.story import DemoFailed, DemoReporter, DemoSummary, run_demo

__all__ = ["DemoFailed", "DemoReporter", "DemoSummary", "run_demo"]
