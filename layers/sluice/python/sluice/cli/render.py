"""Terminal rendering: timelines, tables and JSON for scripts."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sluice.local import TimelineEntry
from sluice.registry import AuditEntry, ModelVersion

console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)

_EVENT_STYLES = {
    "DatasetRejected": "yellow", "TrainingFailed": "red", "DeploymentAborted": "red",
    "ModelRolledBack": "magenta", "RollbackSkipped": "yellow", "ModelDeployed": "green",
}


def print_json(document: Any) -> None:
    """Machine-readable output (stdout, nothing else)."""
    print(json.dumps(document, indent=2, sort_keys=True, default=str))


class TimelinePrinter:
    """Prints events and function runs as they happen (the DemoReporter of the terminal)."""

    def __init__(self, *, enabled: bool = True) -> None:
        self._enabled = enabled
        self._started = time.perf_counter()

    def _stamp(self) -> str:
        return f"[dim]{time.perf_counter() - self._started:7.2f}s[/dim]"

    def step(self, number: int, title: str) -> None:
        if self._enabled:
            console.print(f"\n[bold cyan]{number}. {title}[/bold cyan]")

    def info(self, text: str) -> None:
        if self._enabled:
            for line in text.splitlines():
                console.print(f"          [dim]│[/dim] {escape(line)}")

    def check(self, passed: bool, text: str) -> None:
        if self._enabled:
            mark = "[bold green]✔[/bold green]" if passed else "[bold red]✘[/bold red]"
            console.print(f"          {mark} {text}")

    def event(self, entry: TimelineEntry) -> None:
        if not self._enabled:
            return
        if entry.kind == "event":
            style = _EVENT_STYLES.get(entry.name, "blue")
            console.print(f"{self._stamp()} [{style}]⚡ {entry.name:<18}[/{style}] {describe_event(entry.detail)}")
        elif entry.kind == "invoke":
            seconds = entry.detail.get("seconds", 0)
            console.print(f"{self._stamp()} [white]λ {entry.name:<18}[/white] {entry.detail.get('outcome', 'ok')}"
                          f" [dim]({seconds:.2f}s)[/dim]")
        elif entry.kind == "error":
            console.print(f"{self._stamp()} [bold red]✘ {entry.name:<18}[/bold red] {entry.detail.get('error')}")
        else:
            console.print(f"{self._stamp()} [white]↓ {entry.kind:<18}[/white] {entry.name}")


def describe_event(detail: dict[str, Any]) -> str:
    parts = [str(detail.get("model", ""))]
    for key in ("version", "data_version", "rows", "family", "approved", "rolled_back_version", "lambda_version",
                "alarm", "state", "rule", "key"):
        if detail.get(key) not in (None, ""):
            parts.append(f"{key}={detail[key]}")
    if detail.get("reasons"):
        parts.append("; ".join(detail["reasons"])[:120])
    if detail.get("reason"):
        parts.append(str(detail["reason"])[:120])
    return " ".join(parts)


def versions_table(model: str, versions: list[ModelVersion], live: int | None, previous: int | None) -> Table:
    table = Table(title=f"{model}", title_justify="left")
    for column in ("ver", "status", "alias", "family", "holdout metrics", "data version", "λ ver", "sha256", "created"):
        wraps = column == "holdout metrics"
        table.add_column(column, no_wrap=not wraps, min_width=28 if wraps else None)
    for version in versions:
        alias = "live" if version.version == live else "previous" if version.version == previous else ""
        metrics = " ".join(f"{name}={value:.3f}" for name, value in sorted(version.metrics.items()))
        table.add_row(str(version.version), version.status.value, alias, version.family, metrics,
                      version.data_version, version.lambda_version, version.artifact_sha256[:8],
                      version.created_at[5:16].replace("T", " "))
    return table


def history_table(model: str, entries: list[AuditEntry]) -> Table:
    table = Table(title=f"{model}: audit trail", title_justify="left")
    for column in ("at", "subject", "change", "actor", "reason", "trigger"):
        table.add_column(column)
    for entry in entries:
        table.add_row(entry.at[:23], entry.subject, entry.change, entry.actor, entry.reason[:80], entry.trigger[:60])
    return table


def version_document(version: ModelVersion) -> dict[str, Any]:
    document = {key: getattr(version, key) for key in version.__dataclass_fields__}
    document["status"] = version.status.value
    return document
