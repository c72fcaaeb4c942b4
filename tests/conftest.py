"""Shared fixtures: paths, sample events from events/, and the local stack."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "sluice.toml"
EVENTS = REPO / "events"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def config_path() -> Path:
    return CONFIG


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/, in the exact shape AWS sends it (a fresh copy)."""
    return copy.deepcopy(json.loads((EVENTS / name).read_text()))


@pytest.fixture
def event() -> Any:
    return load_event


@pytest.fixture
def cloud() -> Iterator[Any]:
    """A freshly provisioned local stack (moto, in-process), its Lambda durations scripted (``local.meter``) so
    that a bake check's verdict never depends on the machine's speed."""
    from sluice.local import LocalCloud, ScriptedMeter

    with LocalCloud(CONFIG, functions_dir=REPO / "functions", meter=ScriptedMeter()) as local:
        yield local
