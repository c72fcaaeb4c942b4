"""Fixtures of the release scenarios (tests/integration/test_deployments*.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="session")
def trained() -> Any:
    """One version of each model, trained by the real pipeline once per session."""
    from tests.integration.releases import train_once

    return train_once()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Start a local stack whose models release by the given ``[deployment]`` tables.

    Its meter is scripted (``cloud.meter``: every version 20 ms and no failures unless the test says otherwise),
    so no verdict depends on how fast the machine runs; pass ``meter=`` to measure instead.
    """
    from sluice.local import LocalCloud, Meter, ScriptedMeter
    from tests.integration.releases import config_with

    started: list[Any] = []

    def start(meter: Meter | None = None, **deployments: dict[str, Any]) -> Any:
        tables = {name.replace("_", "-"): table for name, table in deployments.items()}
        cloud = LocalCloud(config_with(tmp_path, tables), functions_dir=REPO / "functions",
                           meter=meter or ScriptedMeter()).start()
        started.append(cloud)
        return cloud

    yield start
    for cloud in started:
        cloud.stop()
