"""The demo: the whole model lifecycle on the embedded local AWS."""

from __future__ import annotations

from sluice.demo.story import DemoFailedError, DemoReporter, DemoSummary, run_demo

__all__ = ["DemoFailedError", "DemoReporter", "DemoSummary", "run_demo"]
