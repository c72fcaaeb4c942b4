"""Shared fixtures: paths, sample events from events/, and the local stack."""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (a generated case that fails once fails every time, and CI
# never fails at random); HYPOTHESIS_PROFILE=explore draws new ones, to search for what the fixed set misses.
settings.register_profile("sluice", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "sluice"))

REPO = Path(__file__).resolve().parents[1]
HANG_GUARD_S = 1800
"""How long a test waits for a command it runs before calling it hung: a guard against hangs, never a verdict on
speed (the demo takes 30 s on an idle 2-core machine and over 300 s with two test runs and two busy loops on it)."""
CONFIG = REPO / "sluice.toml"
EVENTS = REPO / "events"


def trials_only(text: str) -> str:
    """sluice.toml's text with every model search bounded by its trial count alone (each ``timeout_s`` of a
    ``[models.<name>.training.tuning]`` table dropped): a search cut short by the clock trains a different model
    on a busy machine, so a test's verdict would depend on the machine's speed."""
    kept, tuning = [], False
    for line in text.splitlines():
        header = re.match(r"^\[\[?([^\]]+)\]\]?\s*$", line)
        if header:
            tuning = header.group(1).endswith(".training.tuning")
        if tuning and re.match(r"^timeout_s\s*=", line):
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


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
def cloud(tmp_path: Path) -> Iterator[Any]:
    """A freshly provisioned local stack (moto, in-process) on sluice.toml, with nothing judged on the machine's
    speed: Lambda durations are scripted (``local.meter``) and searches stop by trial count, not by the clock."""
    from sluice.local import LocalCloud, ScriptedMeter

    config = tmp_path / "sluice.toml"
    config.write_text(trials_only(CONFIG.read_text()))
    with LocalCloud(config, functions_dir=REPO / "functions", meter=ScriptedMeter()) as local:
        yield local
