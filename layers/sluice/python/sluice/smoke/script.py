"""The smoke script: deploy, drop, wait for live, predict, force the error alarm, check the rollback, read the logs
for denials and errors, destroy — the same steps against AWS and against the local stack."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sluice.registry import RegistryStore, Status

SETTLED = (Status.LIVE, Status.REJECTED, Status.FAILED, Status.ROLLED_BACK, Status.RETIRED, Status.PREVIOUS)
SKIPPED_ROLLBACK = "rollback skipped"


class SmokeStepError(RuntimeError):
    """A smoke step did not reach its outcome."""


class SmokeTarget(Protocol):
    """Where the smoke script runs: a deployed stage and the means to poke it."""

    name: str

    def deploy(self) -> None: ...

    def drop(self, model: str, name: str, body: bytes) -> None: ...

    def settle(self) -> None:
        """Let events flow for one polling interval (AWS: wait; local: deliver everything queued)."""

    @property
    def registry(self) -> RegistryStore: ...

    def predict(self, model: str, instances: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]: ...

    def force_alarm(self, model: str) -> None:
        """Put the model's error alarm in ALARM (``set-alarm-state``)."""

    def problems(self) -> list[str]:
        """Log lines (or runtime records) since deploy that show an AccessDenied or a function error."""

    def destroy(self) -> None: ...


@dataclass
class SmokeReport:
    """What each step found, in order; ``ok`` when every step passed."""

    steps: list[tuple[str, str]] = field(default_factory=list)
    failure: str = ""

    @property
    def ok(self) -> bool:
        return not self.failure

    def lines(self) -> list[str]:
        done = [f"ok   {step}: {detail}" for step, detail in self.steps]
        return done + ([f"FAIL {self.failure}"] if self.failure else [])


@dataclass(frozen=True)
class SmokePlan:
    """Which model and data the script uses, and how long it waits (polls, each after target.settle())."""

    model: str
    data: Path
    target_column: str
    first_rows: int = 300
    polls: int = 60


def run_smoke(target: SmokeTarget, plan: SmokePlan, *, on_step: Callable[[str, str], None] | None = None
              ) -> SmokeReport:
    """Run every step; the target is destroyed whatever happened."""
    report = SmokeReport()

    def passed(step: str, detail: str) -> None:
        report.steps.append((step, detail))
        if on_step is not None:
            on_step(step, detail)

    try:
        _steps(target, plan, passed)
    except SmokeStepError as failure:
        report.failure = str(failure)
    finally:
        target.destroy()
        passed("destroy", f"{target.name} torn down")
    return report


def _steps(target: SmokeTarget, plan: SmokePlan, passed: Callable[[str, str], None]) -> None:
    model = plan.model
    target.deploy()
    passed("deploy", target.name)
    header, *rows = plan.data.read_text().splitlines(keepends=True)
    target.drop(model, "smoke-1.csv", "".join([header, *rows[: plan.first_rows]]).encode())
    first = _wait(target, plan, "version 1 live", lambda: _live(target, model) == 1)
    passed("drop → live", f"{model} v{first} live")
    instances = _instances(plan, 3)
    status, body = target.predict(model, instances)
    if status != 200 or len(body.get("predictions", [])) != len(instances):
        raise SmokeStepError(f"predict: HTTP {status} {body}")
    passed("predict", f"HTTP 200 from v{body.get('model_version')}")
    target.drop(model, "smoke-2.csv", plan.data.read_bytes())
    _wait(target, plan, "version 2 settled", lambda: _status(target, model, 2) in SETTLED)
    live, previous = _live(target, model), target.registry.get_alias(model, "previous")
    passed("second drop", f"v2 {_status(target, model, 2)}; live v{live}")
    target.force_alarm(model)
    if previous is not None:
        back = previous.version
        _wait(target, plan, f"rollback to v{back}", lambda: _live(target, model) == back)
        passed("alarm → rollback", f"live v{live} → v{back}")
    else:
        _wait(target, plan, "the rollback's decision", lambda: _skipped(target, model))
        passed("alarm → rollback", f"nothing to go back to: {SKIPPED_ROLLBACK} (audited)")
    problems = target.problems()
    if problems:
        raise SmokeStepError("logs show denials or errors:\n  " + "\n  ".join(problems[:20]))
    passed("logs", "no AccessDenied, no function error")


def _wait(target: SmokeTarget, plan: SmokePlan, what: str, done: Callable[[], bool]) -> int:
    for poll in range(1, plan.polls + 1):
        target.settle()
        if done():
            return poll
    raise SmokeStepError(f"{what}: not reached after {plan.polls} polls")


def _live(target: SmokeTarget, model: str) -> int | None:
    alias = target.registry.get_alias(model, "live")
    return alias.version if alias else None


def _status(target: SmokeTarget, model: str, version: int) -> Status | None:
    versions = {v.version: v.status for v in target.registry.list_versions(model)}
    return versions.get(version)


def _skipped(target: SmokeTarget, model: str) -> bool:
    return any(entry.change == SKIPPED_ROLLBACK for entry in target.registry.history(model))


def _instances(plan: SmokePlan, count: int) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(plan.data.read_text()))
    rows = [row for _, row in zip(range(count), reader, strict=False)]
    return [{key: _number(value) for key, value in row.items() if key != plan.target_column} for row in rows]


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text
