"""Which sluice the CLI talks to: a running `sluice local`, or AWS (SLUICE_* environment)."""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.settings import Settings, SettingsError

STATE_FILE = Path(".sluice") / "local.json"
JOURNAL_FILE = Path(".sluice") / "timeline.jsonl"
"""The timeline a running `sluice local` appends to (what `sluice drop --wait` follows)."""


class NoTargetError(RuntimeError):
    """Neither a local stack nor an AWS deployment is configured."""


@dataclass(frozen=True)
class Target:
    settings: Settings
    http_url: str | None
    aws_endpoint: str | None
    journal: Path | None = None

    @property
    def is_local(self) -> bool:
        return self.aws_endpoint is not None


def write_local_state(document: dict[str, Any]) -> None:
    STATE_FILE.parent.mkdir(exist_ok=True)
    STATE_FILE.write_text(json.dumps(document, indent=2))


def clear_local_state() -> None:
    STATE_FILE.unlink(missing_ok=True)


def resolve_target() -> Target:
    """Prefer a running `sluice local`; otherwise AWS through the SLUICE_* variables."""
    state = _local_state()
    if state is not None:
        os.environ.update({"AWS_ENDPOINT_URL": state["aws_endpoint"], "AWS_DEFAULT_REGION": "us-east-1",
                           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "SLUICE_CONFIG": state["config"]})
        settings = Settings.local(state.get("prefix", "sluice"))
        os.environ.update(settings.to_env())
        journal = Path(state["journal"]) if state.get("journal") else None
        return Target(settings=settings, http_url=state["http_url"], aws_endpoint=state["aws_endpoint"],
                      journal=journal)
    try:
        return Target(settings=Settings.from_env(), http_url=os.environ.get("SLUICE_ENDPOINT_URL"),
                      aws_endpoint=None)
    except SettingsError as error:
        raise NoTargetError(
            "no local stack is running here (start one with `sluice local`) and no AWS deployment is "
            f"configured ({error}; the stack outputs list the SLUICE_* values)") from error


def _local_state() -> dict[str, Any] | None:
    if not STATE_FILE.is_file():
        return None
    state: dict[str, Any] = json.loads(STATE_FILE.read_text())
    try:
        urllib.request.urlopen(state["aws_endpoint"] + "/moto-api/", timeout=2).close()
    except OSError:
        return None
    return state
