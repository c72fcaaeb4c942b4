"""Which sluice the CLI talks to: a running `sluice local`, or AWS (SLUICE_* environment)."""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.cli.errors import UsageError
from sluice.settings import Settings, SettingsError

STATE_FILE = Path(".sluice") / "local.json"
ENV_STATE_HOME = "XDG_STATE_HOME"  # the user's state directory holds a pointer to the last `sluice local` started
JOURNAL_FILE = Path(".sluice") / "timeline.jsonl"
"""The timeline a running `sluice local` appends to (what `sluice drop --wait` follows)."""


STATE_KEYS = ("aws_endpoint", "http_url", "config")
ENV_ENDPOINT_URL = "SLUICE_ENDPOINT_URL"  # the predict endpoint on AWS (a model's Function URL)


class NoTargetError(UsageError):
    """Neither a local stack nor an AWS deployment is configured (or a stack's state file is unreadable)."""


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
    """The state of a started `sluice local`: here, and as the user's latest stack (found from any directory)."""
    STATE_FILE.parent.mkdir(exist_ok=True)
    STATE_FILE.write_text(json.dumps(document, indent=2))
    pointer = latest_state_file()
    pointer.parent.mkdir(parents=True, exist_ok=True)
    pointer.write_text(json.dumps({**document, "state_file": str(STATE_FILE.resolve())}, indent=2))


def clear_local_state() -> None:
    pointer = latest_state_file()
    if pointer.is_file() and json.loads(pointer.read_text()).get("state_file") == str(STATE_FILE.resolve()):
        pointer.unlink(missing_ok=True)
    STATE_FILE.unlink(missing_ok=True)


def latest_state_file() -> Path:
    base = os.environ.get(ENV_STATE_HOME) or str(Path.home() / ".local" / "state")
    return Path(base) / "sluice" / "local.json"


def resolve_target(stack: Path | None = None) -> Target:
    """Prefer a running `sluice local` (``stack``: its directory or state file; else found from the working
    directory upwards, else the latest one started); otherwise AWS through the SLUICE_* variables."""
    state = _named_stack(stack) if stack is not None else _found_stack()
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
        return Target(settings=Settings.from_env(), http_url=os.environ.get(ENV_ENDPOINT_URL),
                      aws_endpoint=None)
    except SettingsError as error:
        raise NoTargetError(
            "no local stack is running here (start one with `sluice local`) and no AWS deployment is "
            f"configured ({error}; the stack outputs list the SLUICE_* values)") from error


def _named_stack(stack: Path) -> dict[str, Any]:
    path = stack / STATE_FILE if stack.is_dir() else stack
    state = _live_state(path)
    if state is None:
        raise NoTargetError(f"no running `sluice local` at {stack} ({path} is missing or its stack stopped)")
    return state


def _found_stack() -> dict[str, Any] | None:
    here = Path.cwd().resolve()
    for path in (*(folder / STATE_FILE for folder in (here, *here.parents)), latest_state_file()):
        state = _live_state(path)
        if state is not None:
            return state
    return None


def _live_state(path: Path) -> dict[str, Any] | None:
    """The state at ``path`` if its stack answers; None if there is none or it stopped; a corrupt file refused."""
    if not path.is_file():
        return None
    state = read_state(path)
    try:
        urllib.request.urlopen(state["aws_endpoint"] + "/moto-api/", timeout=2).close()
    except (OSError, ValueError):
        return None
    return state


def read_state(path: Path) -> dict[str, Any]:
    """A `sluice local` state file, checked: a JSON object with the stack's endpoints and configuration."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise NoTargetError(f"{path} is not a `sluice local` state file ({getattr(error, 'strerror', None) or error})"
                            "; delete it, or start `sluice local` again") from None
    missing = [key for key in STATE_KEYS if not isinstance(state, dict) or not isinstance(state.get(key), str)]
    if missing:
        raise NoTargetError(f"{path} is not a `sluice local` state file (no {', '.join(missing)}); delete it, "
                            "or start `sluice local` again")
    checked: dict[str, Any] = state
    return checked
