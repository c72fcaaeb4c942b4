"""Write one benchmark's section of benchmarks/RESULTS.md (between its markers), leaving the others alone."""

from __future__ import annotations

import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# Benchmark results\n\nEvery number below was measured by the command shown, on the machine named, " \
         "with the reference run in the same process and the same run. Regenerate with `make bench`.\n"


def machine() -> str:
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    cores = os.cpu_count()
    return f"{platform.machine()}, {cores} cores, Python {platform.python_version()}, OMP_NUM_THREADS={threads}"


def write_section(topic: str, title: str, command: str, body: str) -> None:
    """Replace (or append) the section ``topic`` of RESULTS.md."""
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    stamp = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (f"<!-- bench:{topic} -->\n## {title}\n\nCommand: `{command}`  \nMachine: {machine()}  \n"
               f"Measured: {stamp}\n\n{body.strip()}\n<!-- /bench:{topic} -->")
    pattern = re.compile(rf"<!-- bench:{re.escape(topic)} -->.*?<!-- /bench:{re.escape(topic)} -->", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else f"{text.rstrip()}\n\n{section}\n"
    RESULTS.write_text(text)
