"""Where `sluice drop --wait` learns what happened: a local stack's timeline, or the registry and S3 on AWS."""

from __future__ import annotations

from typing import Any, Protocol

from sluice.cli.follow import TRAIN_RESULT, TRIAL, VALIDATE_RESULT
from sluice.local.journal import TimelineJournal
from sluice.local.runtime import TimelineEntry
from sluice.registry import AuditEntry, ModelVersion, RegistryStore, Status
from sluice.storage import ObjectStore, rejected_prefix

Observation = tuple[str, dict[str, Any]]
REPORT_FILE = "report.json"
SKIPPED_SUBJECT = "retrain"
"""The audit subject train_model notes a skipped (unchanged-data) retrain under."""
_EVALUATED = frozenset({Status.APPROVED, Status.PENDING_APPROVAL, Status.CANARY, Status.LIVE, Status.PREVIOUS,
                        Status.ROLLED_BACK, Status.RETIRED, Status.REJECTED})


class ObservationSource(Protocol):
    def poll(self) -> list[Observation]:
        """What is new (a poller may repeat what it said before; the follower ignores repeats)."""


class JournalSource:
    """The timeline a running `sluice local` appends to its journal, from an offset on."""

    def __init__(self, journal: TimelineJournal, offset: int) -> None:
        self._journal = journal
        self._offset = offset

    def poll(self) -> list[Observation]:
        entries, self._offset = self._journal.read(self._offset)
        return [observed for entry in entries if (observed := observation(entry)) is not None]


def observation(entry: TimelineEntry) -> Observation | None:
    """An event by its detail-type, the validate/train functions' results, and training trials."""
    if entry.kind == "event":
        return entry.name, entry.detail
    if entry.kind == "invoke" and entry.name in (VALIDATE_RESULT, TRAIN_RESULT):
        return entry.name, entry.detail
    if entry.kind == "progress" and entry.name == TRIAL:
        return TRIAL, entry.detail
    return None


class RegistrySource:
    """On AWS: the quarantine report at the drop's own prefix, and the versions the registry's audit trail ties
    to the drop's correlation id, read back as the events that made them so."""

    def __init__(self, store: ObjectStore, registry: RegistryStore, model: str, correlation_id: str) -> None:
        self._store = store
        self._registry = registry
        self._model = model
        self._correlation_id = correlation_id

    def poll(self) -> list[Observation]:
        report_key = rejected_prefix(self._model, self._correlation_id) + REPORT_FILE
        base = {"model": self._model, "correlation_id": self._correlation_id}
        if self._store.exists(report_key):
            return [("DatasetRejected", {**base, "report_key": report_key})]
        history = self._registry.history(self._model)
        mine = [entry for entry in history if entry.correlation_id == self._correlation_id]
        ours = [number for entry in mine if (number := _version_number(entry)) is not None]
        if not ours:
            return [("TrainingSkipped", {**base, "reason": entry.reason}) for entry in mine if _skipped(entry)]
        number = max(ours)  # the latest version this drop made
        version = self._registry.get_version(self._model, number)
        trail = [entry for entry in history if _version_number(entry) == number]
        return version_observations(version, trail, self._deployment(number), base)

    def _deployment(self, number: int) -> dict[str, Any] | None:
        deployment = self._registry.get_deployment(self._model)
        if deployment is None or deployment.version != number:
            return None
        return {"stage": f"{deployment.strategy} stage {deployment.stage + 1}/{deployment.stages}",
                "weight": deployment.weight, "next_check_at": deployment.next_check_at}


def version_observations(version: ModelVersion, trail: list[AuditEntry], deployment: dict[str, Any] | None,
                         base: dict[str, Any]) -> list[Observation]:
    """The events a version's status and audit trail imply, in the order they were published."""
    facts = {**base, "version": version.version, "data_version": version.data_version}
    rows = sum(int(version.lineage.get(key) or 0) for key in ("train_rows", "holdout_rows"))
    observed: list[Observation] = [("DatasetAccepted", {**base, "data_version": version.data_version,
                                                        "rows": rows or None})]
    changes = [entry.change for entry in trail]
    if version.status is Status.FAILED:
        reason = next((entry.reason for entry in trail if entry.change.endswith("→ failed")), "")
        return [*observed, ("TrainingFailed", {**facts, "reason": reason or "training failed"})]
    if version.status is Status.TRAINING:
        return observed
    observed.append(("ModelTrained", facts))
    if version.status not in _EVALUATED:
        return observed
    approved = "candidate → rejected" not in changes
    observed.append(("ModelEvaluated", {**facts, "approved": approved, "reasons": list(version.gate_reasons),
                                        "metrics": dict(version.metrics)}))
    if not approved:
        return observed
    if deployment is not None:
        observed.append(("DeploymentProgressed", {**facts, **deployment}))
    if version.status is Status.PENDING_APPROVAL:
        observed.append(("ApprovalRequested", {**facts, "expires_at": version.approval.get("expires_at")}))
    elif any(change.endswith("→ live") for change in changes):
        observed.append(("ModelDeployed", facts))
    elif version.status in (Status.ROLLED_BACK, Status.REJECTED):
        reason = next((entry.reason for entry in reversed(trail) if entry.change.startswith("canary →")), "")
        observed.append(("DeploymentAborted", {**facts, "reason": reason or version.status.value}))
    return observed


def _skipped(entry: AuditEntry) -> bool:
    """The audit note of a retrain that was a no-op (its data and config equal an existing version's)."""
    return entry.subject == SKIPPED_SUBJECT and entry.change.startswith("skipped")


def _version_number(entry: AuditEntry) -> int | None:
    subject = entry.subject
    return int(subject[1:]) if subject.startswith("v") and subject[1:].isdigit() else None
