"""The demo: the whole model lifecycle on the embedded local AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.demo.story import DemoFailedError, DemoReporter, DemoSummary, run_demo

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
