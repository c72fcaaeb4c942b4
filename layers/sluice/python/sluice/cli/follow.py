"""Follow one drop through the pipeline: what it has reached, and how it ended (pure; fed by a source)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

Stage = Literal["validating", "training", "evaluating", "releasing", "done"]
Status = Literal["live", "unchanged", "pending_approval", "rejected", "failed", "not_approved", "aborted"]
TRIAL = "trial"
"""The name of a training progress observation (one hyperparameter trial finished)."""
VALIDATE_RESULT = "validate_dataset"
APPROVED = "approved"
TRAIN_RESULT = "train_model"
SUCCESS: frozenset[str] = frozenset({"live", "unchanged", "pending_approval"})
"""The pipeline did all it can: live, nothing new to train, or a version waiting for a human's approval."""
_RANK: dict[str, int] = {"validating": 0, "training": 1, "evaluating": 2, "releasing": 3, "done": 4}
ReportReader = Callable[[str], dict[str, Any] | None]


@dataclass(frozen=True)
class DropOutcome:
    """How a drop ended: live (with metrics), unchanged, or why not (with the report's issues)."""

    status: Status
    message: str
    version: int | None = None
    data_version: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    report_key: str | None = None
    issues: tuple[dict[str, Any], ...] = ()

    @property
    def exit_code(self) -> int:
        """0 live (or nothing new to train, or waiting for approval), 1 rejected or failed."""
        return 0 if self.status in SUCCESS else 1

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message, "version": self.version,
                "data_version": self.data_version, "metrics": self.metrics, "report_key": self.report_key,
                "issues": list(self.issues), "exit_code": self.exit_code}


@dataclass(frozen=True)
class DropState:
    """Where the drop is now."""

    model: str
    key: str
    correlation_id: str
    stage: Stage = "validating"
    rows: int | None = None
    data_version: str | None = None
    version: int | None = None
    trials: int = 0
    trials_planned: int | None = None
    best: float | None = None
    last_trial: str = ""
    release: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    outcome: DropOutcome | None = None
    ended_in: Stage | None = None
    """The stage the drop was in when it ended."""


class DropFollower:
    """Reads observations (sluice events by detail-type, function results, training trials) and keeps the
    state of one drop; observations about other drops are ignored and repeated ones change nothing."""

    def __init__(self, model: str, key: str, correlation_id: str, *, read_report: ReportReader,
                 report_location: Callable[[str], str] = lambda key: key) -> None:
        self.state = DropState(model=model, key=key, correlation_id=correlation_id)
        self._read_report = read_report
        self._where = report_location

    @property
    def done(self) -> bool:
        return self.state.outcome is not None

    def observe(self, name: str, detail: dict[str, Any]) -> DropState:
        if self.done or detail.get("model") not in (None, self.state.model):
            return self.state
        handler = self._handlers().get(name)
        changed = handler(detail) if handler is not None else None
        if changed is not None:
            if changed.outcome is None and _RANK[changed.stage] < _RANK[self.state.stage]:
                changed = replace(changed, stage=self.state.stage, release=self.state.release)  # seen again
            self.state = changed
        return self.state

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], DropState | None]]:
        return {
            "DatasetAccepted": self._accepted, "DatasetRejected": self._rejected,
            VALIDATE_RESULT: self._validated, TRIAL: self._trial, TRAIN_RESULT: self._train_result,
            "ModelTrained": self._trained, "TrainingFailed": self._training_failed, "TrainingSkipped": self._skipped,
            "ModelEvaluated": self._evaluated, "DeploymentStarted": self._release,
            "DeploymentProgressed": self._release, "DeploymentQueued": self._queued,
            "ModelDeployed": self._deployed, "DeploymentAborted": self._aborted,
            "ApprovalRequested": self._approval_requested,
        }

    # -- matching -------------------------------------------------------------------------------------

    def _ours(self, detail: dict[str, Any]) -> bool:
        return detail.get("correlation_id") == self.state.correlation_id

    def _our_version(self, detail: dict[str, Any]) -> bool:
        return self.state.version is not None and detail.get("version") == self.state.version

    # -- validation -----------------------------------------------------------------------------------

    def _accepted(self, detail: dict[str, Any]) -> DropState | None:
        if not self._ours(detail):
            return None
        stage: Stage = "training" if self.state.stage == "validating" else self.state.stage
        return replace(self.state, stage=stage, rows=_int(detail.get("rows")),
                       data_version=str(detail.get("data_version") or "") or None)

    def _validated(self, detail: dict[str, Any]) -> DropState | None:
        """The validate function's own result: the only sign of a drop whose content was accepted before."""
        if not self._ours(detail) or detail.get("outcome") != "already_accepted":
            return None
        data_version = str(detail.get("data_version") or "")
        return self._end(DropOutcome("unchanged", f"the content was accepted before as data version {data_version}: "
                                                  "no new data version, nothing to retrain",
                                     data_version=data_version), rows=_int(detail.get("rows")))

    def _rejected(self, detail: dict[str, Any]) -> DropState | None:
        if not self._ours(detail):
            return None
        key = str(detail.get("report_key") or "")
        report = self._read_report(key) if key else None
        issues = tuple(_issue(issue) for issue in (report or {}).get("issues", [])
                       if issue.get("severity", "error") == "error")
        rows = _int((report or {}).get("rows"))
        if issues:
            first = issues[0]
            column = f" in column {first['column']!r}" if first.get("column") else ""
            reason = f"{first['rule']}{column} (count {first['count']}): {first['message']}"
            if len(issues) > 1:
                reason += f"; and {len(issues) - 1} more issue{'s' if len(issues) > 2 else ''}"
        else:
            reason = str(detail.get("summary") or "no report").splitlines()[0]
        message = f"{reason}; report at {self._where(key)}"
        return self._end(DropOutcome("rejected", message, report_key=key or None, issues=issues), rows=rows)

    # -- training -------------------------------------------------------------------------------------

    def _trial(self, detail: dict[str, Any]) -> DropState | None:
        if self.state.stage != "training":
            return None
        value, best = detail.get("value"), detail.get("best")
        shown = f"{detail.get('family')} {detail.get('state')}"
        if isinstance(value, int | float):
            shown += f" cv {value:.4f}"
        return replace(self.state, trials=self.state.trials + 1, last_trial=shown,
                       trials_planned=_int(detail.get("planned")) or self.state.trials_planned,
                       best=float(best) if isinstance(best, int | float) else self.state.best)

    def _train_result(self, detail: dict[str, Any]) -> DropState | None:
        """A training of our data that ended without a version (e.g. its data equals the live version's); a started
        SageMaker training job ("training") is not an end: its ModelTrained or TrainingFailed follows."""
        if (self.state.stage != "training" or self.state.version is not None
                or detail.get("outcome") in ("trained", "failed", "training", None)
                or detail.get("data_version") not in (None, self.state.data_version)):
            return None
        reason = str(detail.get("reason") or detail.get("outcome"))
        return self._end(DropOutcome("unchanged", f"no new version was trained: {reason}",
                                     data_version=self.state.data_version))

    def _skipped(self, detail: dict[str, Any]) -> DropState | None:
        """The training data (the drop's window) equals that of an existing version: a recorded no-op."""
        if not self._ours(detail):
            return None
        same = f" (same as v{detail['same_as_version']})" if detail.get("same_as_version") else ""
        return self._end(DropOutcome("unchanged", f"no new version{same}: {detail.get('reason', 'data unchanged')}",
                                     data_version=self.state.data_version))

    def _trained(self, detail: dict[str, Any]) -> DropState | None:
        if not self._ours(detail):
            return None
        return replace(self.state, stage="evaluating", version=_int(detail.get("version")),
                       data_version=str(detail.get("data_version") or self.state.data_version or "") or None)

    def _training_failed(self, detail: dict[str, Any]) -> DropState | None:
        if not self._ours(detail):
            return None
        version = _int(detail.get("version"))
        return self._end(DropOutcome("failed", f"training failed: {detail.get('reason', 'no reason given')}",
                                     version=version, data_version=self.state.data_version), version=version)

    # -- evaluation and release -----------------------------------------------------------------------

    def _evaluated(self, detail: dict[str, Any]) -> DropState | None:
        if not (self._ours(detail) or self._our_version(detail)):
            return None
        version = _int(detail.get("version")) or self.state.version
        metrics = {str(k): float(v) for k, v in (detail.get("metrics") or {}).items() if isinstance(v, int | float)}
        if detail.get("approved"):
            return replace(self.state, stage="releasing", version=version, metrics=metrics, release=APPROVED)
        reasons = "; ".join(str(reason) for reason in detail.get("reasons") or []) or "no reason given"
        return self._end(DropOutcome("not_approved", f"v{version} did not pass its gate: {reasons}",
                                     version=version, data_version=self.state.data_version, metrics=metrics),
                         version=version, metrics=metrics)

    def _release(self, detail: dict[str, Any]) -> DropState | None:
        if not self._our_version(detail):
            return None
        weight = detail.get("weight")
        shown = str(detail.get("stage") or detail.get("strategy") or "release")
        if isinstance(weight, int | float) and "%" not in shown:
            shown += f" at {weight:.0%}"
        if detail.get("next_check_at"):
            shown += f", next check {str(detail['next_check_at'])[11:19]}"
        return replace(self.state, stage="releasing", release=shown)

    def _queued(self, detail: dict[str, Any]) -> DropState | None:
        if not self._our_version(detail):
            return None
        behind = detail.get("behind_version")
        return replace(self.state, release=f"queued behind the release of v{behind}" if behind else "queued")

    def _deployed(self, detail: dict[str, Any]) -> DropState | None:
        if not self._our_version(detail):
            return None
        version = self.state.version
        shown = " ".join(f"{name}={value:.3f}" for name, value in sorted(self.state.metrics.items()))
        message = f"{self.state.model} v{version} is live (data version {self.state.data_version})"
        return self._end(DropOutcome("live", message + (f"; holdout {shown}" if shown else ""), version=version,
                                     data_version=self.state.data_version, metrics=dict(self.state.metrics)),
                         release=f"{self.state.release} → live" if self.state.release not in ("", APPROVED) else "live")

    def _approval_requested(self, detail: dict[str, Any]) -> DropState | None:
        """The version passed its gate and waits for a human (``deployment.approval = "manual"``)."""
        if not self._our_version(detail):
            return None
        version, model = self.state.version, self.state.model
        expires = f" until {str(detail['expires_at'])[:16]}" if detail.get("expires_at") else ""
        message = (f"{model} v{version} passed its gate and waits for approval{expires}: "
                   f"`sluice approve {model} {version} --reason …` or `sluice reject …`")
        return self._end(DropOutcome("pending_approval", message, version=version,
                                     data_version=self.state.data_version, metrics=dict(self.state.metrics)),
                         release="waiting for approval")

    def _aborted(self, detail: dict[str, Any]) -> DropState | None:
        if not self._our_version(detail):
            return None
        message = f"the release of v{self.state.version} was aborted: {detail.get('reason') or 'no reason given'}"
        if detail.get("live_version"):
            message += f"; live stays v{detail['live_version']}"
        return self._end(DropOutcome("aborted", message, version=self.state.version,
                                     data_version=self.state.data_version, metrics=dict(self.state.metrics)))

    def _end(self, outcome: DropOutcome, **changes: Any) -> DropState:
        kept = {key: value for key, value in changes.items() if value is not None}
        return replace(self.state, stage="done", outcome=outcome, ended_in=self.state.stage, **kept)


def _issue(issue: dict[str, Any]) -> dict[str, Any]:
    return {"rule": str(issue.get("rule")), "column": issue.get("column"), "count": _int(issue.get("count")) or 0,
            "message": str(issue.get("message", ""))}


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class Source(Protocol):
    def poll(self) -> list[tuple[str, dict[str, Any]]]: ...


def follow(follower: DropFollower, source: Source, *, on_change: Callable[[DropState], None], timeout_s: float,
           interval_s: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> DropOutcome | None:
    """Poll ``source`` until the drop ends (its outcome) or ``timeout_s`` passes (None)."""
    deadline = clock() + timeout_s
    while True:
        before = follower.state
        for name, detail in source.poll():
            follower.observe(name, detail)
            if follower.done:
                break
        if follower.state != before:
            on_change(follower.state)
        if follower.state.outcome is not None or clock() >= deadline:
            return follower.state.outcome
        sleep(interval_s)
