"""Write one benchmark's section of benchmarks/RESULTS.md (between its markers), leaving the others alone."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = (
    "# Benchmark results\n\nEvery number below was measured by the command shown, on the machine named, "
    "with the reference run in the same process and the same run. Regenerate with `make bench`.\n"
)


def machine() -> str:
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    cores = os.cpu_count()
    return f"{platform.machine()}, {cores} cores, Python {platform.python_version()}, OMP_NUM_THREADS={threads}"


def spread(values: list[float], unit: str = "", digits: int = 1) -> str:
    """A figure measured in rounds: its median, and the min-max spread a rerun is held to, in brackets."""
    low, high = min(values), max(values)
    return f"{statistics.median(values):.{digits}f}{unit} ({low:.{digits}f}-{high:.{digits}f}{unit})"


class DirtyTreeError(RuntimeError):
    """Results would not name the code that produced them."""


def measured_commit() -> str:
    """The commit the benchmark measures; refuses a tree with uncommitted changes to tracked or new files
    (outside RESULTS.md), since the recorded commit would then not be the code that ran."""
    root = RESULTS.parent.parent
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True)
    dirty = [line[3:] for line in status.stdout.splitlines() if not line.endswith(RESULTS.name)]
    if dirty and os.environ.get("SLUICE_BENCH_ALLOW_DIRTY") != "1":
        raise DirtyTreeError(
            f"commit first: uncommitted changes in {', '.join(dirty[:5])}"
            f"{' ...' if len(dirty) > 5 else ''} (SLUICE_BENCH_ALLOW_DIRTY=1 to try a change "
            "without recording it as a commit's result)"
        )
    head = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"{head}+uncommitted" if dirty else head


def write_section(topic: str, title: str, command: str, body: str) -> None:
    """Replace (or append) the section ``topic`` of RESULTS.md, naming the commit, the command and the machine."""
    commit = measured_commit()
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    stamp = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"<!-- bench:{topic} -->\n## {title}\n\nCommit: `{commit}`  \nCommand: `{command}`  \n"
        f"Machine: {machine()}  \nMeasured: {stamp}\n\n{body.strip()}\n<!-- /bench:{topic} -->"
    )
    pattern = re.compile(rf"<!-- bench:{re.escape(topic)} -->.*?<!-- /bench:{re.escape(topic)} -->", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else f"{text.rstrip()}\n\n{section}\n"
    RESULTS.write_text(text)
