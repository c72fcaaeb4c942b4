"""Terminal rendering: timelines, tables and JSON for scripts."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from sluice.cli.follow import DropOutcome, DropState
from sluice.local import TimelineEntry
from sluice.registry import AuditEntry, ModelVersion

console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)

REJECTION_LINES = 5
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
            if entry.name == "DatasetRejected":
                self._rejection(entry.detail)
        elif entry.kind == "progress":
            console.print(f"{self._stamp()} [dim]  ◦ {entry.name:<16}[/dim] {escape(describe_progress(entry.detail))}")
        elif entry.kind == "invoke":
            seconds = entry.detail.get("seconds", 0)
            console.print(f"{self._stamp()} [white]λ {entry.name:<18}[/white] {entry.detail.get('outcome', 'ok')}"
                          f" [dim]({seconds:.2f}s)[/dim]")
        elif entry.kind == "error":
            console.print(f"{self._stamp()} [bold red]✘ {entry.name:<18}[/bold red] {entry.detail.get('error')}")
        else:
            console.print(f"{self._stamp()} [white]↓ {entry.kind:<18}[/white] {entry.name}")


    def _rejection(self, detail: dict[str, Any]) -> None:
        """Why a file was rejected (rule, column, count per issue) and where its report is."""
        lines = str(detail.get("summary") or "").splitlines()[1:]
        for line in lines[:REJECTION_LINES]:
            console.print(f"{' ' * 30}[yellow]{escape(line[:160])}[/yellow]")
        if len(lines) > REJECTION_LINES:
            console.print(f"{' ' * 30}[yellow]- ... {len(lines) - REJECTION_LINES} more in the report[/yellow]")
        if detail.get("report_key"):
            console.print(f"{' ' * 30}report: {escape(str(detail['report_key']))}")


def describe_progress(detail: dict[str, Any]) -> str:
    """One training trial: its number out of the budget, family, state, CV score and the best so far."""
    planned = f"/{detail['planned']}" if detail.get("planned") else ""
    text = f"{detail.get('model', '')} trial {int(detail.get('number', 0)) + 1}{planned} {detail.get('family', '')} " \
           f"{detail.get('state', '')}"
    for key in ("value", "best"):
        if isinstance(detail.get(key), int | float):
            text += f" {'cv' if key == 'value' else 'best'}={detail[key]:.4f}"
    return text


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
    for column in ("ver", "status", "alias", "family", "data version", "rows", "sha256", "holdout metrics", "λ ver",
                   "created"):
        wraps = column == "holdout metrics"
        table.add_column(column, no_wrap=not wraps, min_width=28 if wraps else None)
    for version in versions:
        alias = "live" if version.version == live else "previous" if version.version == previous else ""
        metrics = " ".join(f"{name}={value:.3f}" for name, value in sorted(version.metrics.items()))
        table.add_row(str(version.version), version.status.value, alias, version.family, version.data_version,
                      _rows(version), version.artifact_sha256[:8], metrics, version.lambda_version,
                      version.created_at[5:16].replace("T", " "))
    return table


def _rows(version: ModelVersion) -> str:
    """The rows a version learned from and was judged on (train + holdout, from its lineage)."""
    rows = sum(int(version.lineage.get(key) or 0) for key in ("train_rows", "holdout_rows"))
    return str(rows) if rows else ""


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


_STAGES = (("validating", "validation"), ("training", "training"), ("evaluating", "evaluation"),
           ("releasing", "release"))
_ORDER = [stage for stage, _ in _STAGES]


def stage_lines(state: DropState) -> list[tuple[str, str, str]]:
    """(mark, stage, what it says) for each stage of a drop: ✔ passed, … running, ✘ where it ended badly."""
    ended = state.outcome
    current = state.ended_in if ended is not None and state.ended_in is not None else state.stage
    reached = _ORDER.index(current) if current in _ORDER else 0
    lines = []
    for index, (stage, label) in enumerate(_STAGES):
        if index < reached or (index == reached and ended is not None and ended.exit_code == 0):
            mark = "✔"
        elif index == reached:
            mark = "✘" if ended is not None else "…"
        else:
            mark = " "
        lines.append((mark, label, _stage_text(state, stage) if mark != " " else ""))
    return lines


def _stage_text(state: DropState, stage: str) -> str:
    if stage == "validating":
        if state.data_version is None:
            return "validating" if state.outcome is None else "rejected"
        rows = f"{state.rows} rows, " if state.rows else ""
        return f"accepted: {rows}data version {state.data_version}"
    if stage == "training":
        planned = f"/{state.trials_planned}" if state.trials_planned else ""
        trials = f"trial {state.trials}{planned}: {state.last_trial}" if state.trials else "training"
        if state.best is not None:
            trials += f" (best {state.best:.4f})"
        if state.version is None:
            return trials
        return f"v{state.version} trained" + (f" ({state.trials} trial{'s' * (state.trials != 1)})"
                                              if state.trials else "")
    if stage == "evaluating":
        if state.metrics:
            return "gate: " + " ".join(f"{k}={v:.3f}" for k, v in sorted(state.metrics.items()))
        return "evaluating on the holdout"
    return state.release or "releasing"


class DropDisplay:
    """Live progress of one drop: a table redrawn in place on a terminal, a line per change otherwise."""

    def __init__(self, source: str, *, enabled: bool = True) -> None:
        self._enabled = enabled
        self._started = time.perf_counter()
        self._printed: dict[str, str] = {}
        self._live = Live(console=console, refresh_per_second=4) if enabled and console.is_terminal else None
        if enabled:
            console.print(f"following {escape(source)}")
        if self._live is not None:
            self._live.start()

    def update(self, state: DropState) -> None:
        if not self._enabled:
            return
        if self._live is not None:
            self._live.update(self._table(state))
            return
        for mark, label, text in stage_lines(state):
            if text and self._printed.get(label) != text:
                self._printed[label] = text
                console.print(f"[dim]{time.perf_counter() - self._started:7.2f}s[/dim] {mark} {label:<11} "
                              f"{escape(text)}")

    def close(self, outcome: DropOutcome | None) -> None:
        if self._live is not None:
            self._live.stop()
        if self._enabled and outcome is not None:
            style = "green" if outcome.exit_code == 0 else "red"
            console.print(f"[bold {style}]{outcome.status}[/bold {style}]: {escape(outcome.message)}")
            for issue in outcome.issues[:10]:
                column = issue["column"] if issue.get("column") else "-"
                console.print(f"  - {issue['rule']} column={escape(str(column))} count={issue['count']}: "
                              f"{escape(issue['message'])}")

    def _table(self, state: DropState) -> Table:
        table = Table.grid(padding=(0, 1))
        elapsed = f"[dim]{time.perf_counter() - self._started:6.1f}s[/dim]"
        for mark, label, text in stage_lines(state):
            table.add_row(elapsed, mark, f"[bold]{label}[/bold]", escape(text))
        return table
