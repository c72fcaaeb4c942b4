"""The registry in memory, with the DynamoDB backend's semantics: for unit tests and offline commands.

One lock makes every method atomic, as each DynamoDB request (a transaction included) is. What DynamoDB checks
with a condition — the caller's revision of a release record or alias, a status another writer may have
changed — is checked here too, and fails the same way (ConcurrentUpdateError). Documents are stored as plain
JSON values, so a caller's later change to a dict it passed in changes nothing stored.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from sluice.clock import Clock, iso, system_clock
from sluice.registry import documents
from sluice.registry.entities import (
    AliasPointer,
    AuditEntry,
    DatasetRecord,
    Deployment,
    EndpointChange,
    Lease,
    LeaseGrant,
    ModelVersion,
    QueuedDeployment,
    Status,
)
from sluice.registry.errors import (
    ConcurrentUpdateError,
    DeploymentInProgressError,
    RegistryError,
    VersionNotFoundError,
)
from sluice.registry.store import RegistryStore
from sluice.registry.transitions import check_transition

LIVE = "live"
PREVIOUS = "previous"


@dataclass
class _Model:
    """Everything stored for one model (one DynamoDB partition)."""

    versions: dict[int, dict[str, Any]] = field(default_factory=dict)
    claims: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, AliasPointer] = field(default_factory=dict)
    audit: list[tuple[str, int, int, AuditEntry]] = field(default_factory=list)
    datasets: dict[str, tuple[dict[str, Any], str | None]] = field(default_factory=dict)
    latest_dataset: dict[str, Any] | None = None
    deployment: Deployment | None = None
    queued: dict[int, QueuedDeployment] = field(default_factory=dict)
    endpoint_change: EndpointChange | None = None
    leases: dict[str, Lease] = field(default_factory=dict)


class InMemoryRegistry(RegistryStore):
    """Thread-safe; every write checks what the DynamoDB backend's condition would."""

    def __init__(self, *, clock: Clock = system_clock) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._models: dict[str, _Model] = {}
        self._written = 0  # orders audit entries written at the same instant

    # -- versions ---------------------------------------------------------------------------------

    def claim_version(
        self, model: str, *, data_version: str, code_version: str, lineage: dict[str, Any], actor: str,
        correlation_id: str, claim_key: str | None = None, reason: str = "training started",
    ) -> ModelVersion:
        with self._lock:
            stored = self._model(model)
            if claim_key is not None and claim_key in stored.claims:
                return self.get_version(model, stored.claims[claim_key])
            number = max(stored.versions, default=0) + 1
            now = self._now()
            stored.versions[number] = documents.stored({
                "model": model, "version": number, "status": Status.TRAINING.value, "data_version": data_version,
                "code_version": code_version, "lineage": lineage, "created_at": now, "updated_at": now})
            if claim_key is not None:
                stored.claims[claim_key] = number
            self._audit(model, f"v{number}", "created (training)", reason, actor, correlation_id, now)
            return self.get_version(model, number)

    def get_version(self, model: str, version: int) -> ModelVersion:
        with self._lock:
            document = self._model(model).versions.get(version)
            if document is None:
                raise VersionNotFoundError(f"{model} v{version} does not exist")
            return documents.version_from(documents.stored(document))

    def list_versions(self, model: str) -> list[ModelVersion]:
        with self._lock:
            return [self.get_version(model, number) for number in sorted(self._model(model).versions)]

    def transition(
        self, model: str, version: int, *, to: Status, reason: str, actor: str, correlation_id: str,
        fields: dict[str, Any] | None = None, trigger: str = "",
    ) -> ModelVersion:
        with self._lock:
            current = self.get_version(model, version)
            check_transition(current.status, to)
            now = self._now()
            self._set_status(model, version, current.status, to, now, fields or {})
            self._audit(model, f"v{version}", f"{current.status.value} → {to.value}", reason, actor, correlation_id,
                        now, trigger=trigger)
            return self.get_version(model, version)

    # -- aliases ----------------------------------------------------------------------------------

    def get_alias(self, model: str, name: str) -> AliasPointer | None:
        with self._lock:
            return self._model(model).aliases.get(name)

    def promote(
        self, model: str, version: int, *, lambda_version: str, reason: str, actor: str, correlation_id: str,
        deployment: Deployment | None = None, trigger: str = "",
    ) -> ModelVersion:
        with self._lock:
            candidate = self.get_version(model, version)
            check_transition(candidate.status, Status.LIVE)
            stored = self._model(model)
            live = stored.aliases.get(LIVE)
            if live is not None:
                self._expect_status(model, live.version, Status.LIVE)
            if deployment is not None:
                self._expect_deployment(deployment)
            now = self._now()
            replaced = live.version if live else None
            self._set_status(model, version, candidate.status, Status.LIVE, now,
                             {"lambda_version": lambda_version, "replaced_version": replaced})
            stored.aliases[LIVE] = self._moved(model, LIVE, version, lambda_version, live, now)
            self._audit(model, f"v{version}", f"{candidate.status.value} → live", reason, actor, correlation_id, now,
                        trigger=trigger)
            if live is not None:
                self._set_status(model, live.version, Status.LIVE, Status.PREVIOUS, now, {})
                stored.aliases[PREVIOUS] = self._moved(model, PREVIOUS, live.version, live.lambda_version,
                                                       stored.aliases.get(PREVIOUS), now)
                self._audit(model, f"v{live.version}", "live → previous", f"replaced by v{version}", actor,
                            correlation_id, now, seq=1, trigger=trigger)
            if deployment is not None:
                stored.deployment = None
            stored.endpoint_change = EndpointChange(now)
            return self.get_version(model, version)

    def rollback(
        self, model: str, *, reason: str, actor: str, correlation_id: str, trigger: str = "",
    ) -> tuple[ModelVersion, ModelVersion]:
        with self._lock:
            stored = self._model(model)
            live, previous = stored.aliases.get(LIVE), stored.aliases.get(PREVIOUS)
            if live is None or previous is None:
                raise RegistryError(f"{model} has no previous good version to roll back to")
            target = self.get_version(model, previous.version)
            if target.status is not Status.PREVIOUS:
                raise RegistryError(f"{target.label} is {target.status.value}, not a known-good previous version")
            self._expect_status(model, live.version, Status.LIVE)
            earlier = None if target.replaced_version is None else self.get_version(model, target.replaced_version)
            now = self._now()
            self._set_status(model, live.version, Status.LIVE, Status.ROLLED_BACK, now, {})
            self._set_status(model, target.version, Status.PREVIOUS, Status.LIVE, now, {})
            stored.aliases[LIVE] = self._moved(model, LIVE, target.version, target.lambda_version, live, now)
            self._audit(model, f"v{live.version}", "live → rolled_back", reason, actor, correlation_id, now,
                        trigger=trigger)
            self._audit(model, f"v{target.version}", "previous → live", f"rollback from v{live.version}", actor,
                        correlation_id, now, seq=1, trigger=trigger)
            if earlier is not None and earlier.status is Status.PREVIOUS:
                stored.aliases[PREVIOUS] = self._moved(model, PREVIOUS, earlier.version, earlier.lambda_version,
                                                       previous, now)
            else:
                del stored.aliases[PREVIOUS]
            stored.endpoint_change = EndpointChange(now, rolled_back=True)
            return self.get_version(model, live.version), self.get_version(model, target.version)

    def last_endpoint_change(self, model: str) -> EndpointChange | None:
        with self._lock:
            stored = self._model(model)
            if stored.endpoint_change is not None:
                return stored.endpoint_change
            live = stored.aliases.get(LIVE)
            return EndpointChange(live.updated_at) if live else None

    # -- releases in progress ---------------------------------------------------------------------

    def get_deployment(self, model: str) -> Deployment | None:
        with self._lock:
            return self._model(model).deployment

    def start_deployment(
        self, deployment: Deployment, *, reason: str, actor: str, trigger: str = "",
    ) -> Deployment:
        model = deployment.model
        with self._lock:
            candidate = self.get_version(model, deployment.version)
            check_transition(candidate.status, Status.CANARY)
            stored = self._model(model)
            active = stored.deployment
            if active is not None:
                raise DeploymentInProgressError(
                    f"{active.label} is in progress (stage {active.stage + 1}/{active.stages}, started "
                    f"{active.started_at})")
            now = self._now()
            stored.deployment = deployment
            self._set_status(model, deployment.version, candidate.status, Status.CANARY, now,
                             {"lambda_version": deployment.candidate_lambda_version})
            self._audit(model, f"v{deployment.version}", f"{candidate.status.value} → canary", reason, actor,
                        deployment.correlation_id, now, trigger=trigger)
            stored.endpoint_change = EndpointChange(now)
            return deployment

    def update_deployment(
        self, current: Deployment, updated: Deployment, *, change: str, reason: str, actor: str, trigger: str = "",
    ) -> Deployment:
        with self._lock:
            self._expect_deployment(current)
            stored = replace(updated, revision=current.revision + 1)
            self._model(current.model).deployment = stored
            self._audit(current.model, f"v{current.version}", change, reason, actor, current.correlation_id,
                        self._now(), trigger=trigger)
            return stored

    def end_deployment(
        self, current: Deployment, *, to: Status, reason: str, actor: str, trigger: str = "",
    ) -> ModelVersion:
        check_transition(Status.CANARY, to)
        with self._lock:
            self._expect_deployment(current)
            self._expect_status(current.model, current.version, Status.CANARY)
            now = self._now()
            stored = self._model(current.model)
            stored.deployment = None
            self._set_status(current.model, current.version, Status.CANARY, to, now, {})
            self._audit(current.model, f"v{current.version}", f"canary → {to.value}", reason, actor,
                        current.correlation_id, now, trigger=trigger)
            stored.endpoint_change = EndpointChange(now, rolled_back=to is not Status.LIVE)
            return self.get_version(current.model, current.version)

    def queue_deployment(self, model: str, version: int, *, correlation_id: str, actor: str, trigger: str = ""
                         ) -> bool:
        with self._lock:
            stored = self._model(model)
            if version in stored.queued:
                return False
            now = self._now()
            stored.queued[version] = QueuedDeployment(model, version, correlation_id, now)
            self._audit(model, f"v{version}", "queued for release", "another release is in progress", actor,
                        correlation_id, now, trigger=trigger)
            return True

    def queued_deployments(self, model: str) -> list[QueuedDeployment]:
        with self._lock:
            queued = self._model(model).queued
            return [queued[version] for version in sorted(queued)]

    def take_queued(self, model: str, version: int) -> bool:
        with self._lock:
            return self._model(model).queued.pop(version, None) is not None

    # -- datasets ---------------------------------------------------------------------------------

    def record_dataset(self, record: DatasetRecord, *, recorded_by: str | None = None) -> bool:
        document = documents.stored({
            "model": record.model, "data_version": record.data_version, "rows": record.rows,
            "data_key": record.data_key, "sources": list(record.sources), "accepted_at": record.accepted_at,
            "contract_version": record.contract_version, "origin": record.origin})
        with self._lock:
            stored = self._model(record.model)
            known = stored.datasets.get(record.data_version)
            if known is not None:
                existing, first_by = known
                if recorded_by is None or first_by != recorded_by:
                    sources = list(existing["sources"])
                    sources += [source for source in record.sources if source not in sources]
                    stored.datasets[record.data_version] = ({**existing, "sources": sources}, first_by)
                    return False
            else:
                stored.datasets[record.data_version] = (document, recorded_by)
            if record.origin != "drop":
                return True
            latest = stored.latest_dataset
            if latest is None or latest["accepted_at"] <= record.accepted_at:
                stored.latest_dataset = document
            return True

    def latest_dataset(self, model: str) -> DatasetRecord | None:
        with self._lock:
            latest = self._model(model).latest_dataset
            return None if latest is None else documents.dataset_from(documents.stored(latest))

    def list_datasets(self, model: str) -> list[DatasetRecord]:
        with self._lock:
            records = [documents.dataset_from(documents.stored(document))
                       for document, _ in self._model(model).datasets.values()]
        return sorted(records, key=lambda record: (record.accepted_at, record.data_version))

    # -- leases -----------------------------------------------------------------------------------

    def acquire_lease(self, model: str, name: str, *, owner: str, ttl_s: float, trigger: str = "",
                      force: bool = False) -> LeaseGrant:
        with self._lock:
            now = self._clock()
            leases = self._model(model).leases
            held = leases.get(name)
            if held is not None and not force and not held.free_for(owner, now):
                return LeaseGrant(False, held, now)
            taken = Lease(model=model, name=name, owner=owner, lease_until=int(now + ttl_s),
                          cooldown_until=held.cooldown_until if held else 0, trigger=trigger, acquired_at=iso(now),
                          released_at=held.released_at if held else "")
            leases[name] = taken
            return LeaseGrant(True, taken, now)

    def release_lease(self, model: str, name: str, *, owner: str, cooldown_s: float | None = None) -> bool:
        with self._lock:
            now = self._clock()
            leases = self._model(model).leases
            held = leases.get(name)
            if held is None or held.owner != owner:
                return False
            cooldown = held.cooldown_until if cooldown_s is None else int(now + cooldown_s)
            leases[name] = replace(held, lease_until=0, cooldown_until=cooldown, released_at=iso(now))
            return True

    def get_lease(self, model: str, name: str) -> Lease | None:
        with self._lock:
            return self._model(model).leases.get(name)

    # -- audit ------------------------------------------------------------------------------------

    def history(self, model: str) -> list[AuditEntry]:
        with self._lock:
            return [entry for *_, entry in sorted(self._model(model).audit, key=lambda row: row[:3])]

    def note(self, model: str, *, subject: str, change: str, reason: str, actor: str, correlation_id: str,
             trigger: str = "") -> None:
        with self._lock:
            self._audit(model, subject, change, reason, actor, correlation_id, self._now(), trigger=trigger)

    # -- helpers (call with the lock held) --------------------------------------------------------

    def _model(self, model: str) -> _Model:
        return self._models.setdefault(model, _Model())

    def _now(self) -> str:
        return iso(self._clock())

    def _audit(self, model: str, subject: str, change: str, reason: str, actor: str, correlation_id: str,
               now: str, *, seq: int = 0, trigger: str = "") -> None:
        self._written += 1
        entry = AuditEntry(model=model, at=now, subject=subject, change=change, reason=reason, actor=actor,
                           correlation_id=correlation_id, trigger=trigger)
        self._model(model).audit.append((now, seq, self._written, entry))

    def _expect_status(self, model: str, version: int, status: Status) -> None:
        current = self._model(model).versions.get(version, {}).get("status")
        if current != status.value:
            raise ConcurrentUpdateError(f"registry changed concurrently: {model} v{version} is {current}, "
                                        f"not {status.value}")

    def _expect_deployment(self, deployment: Deployment) -> None:
        active = self._model(deployment.model).deployment
        if active is None or active.revision != deployment.revision:
            raise ConcurrentUpdateError(f"registry changed concurrently: the {deployment.label} record is at "
                                        f"revision {active.revision if active else 'none'}, "
                                        f"not {deployment.revision}")

    def _set_status(self, model: str, version: int, current: Status, to: Status, now: str,
                    fields: dict[str, Any]) -> None:
        self._expect_status(model, version, current)
        versions = self._model(model).versions
        changed = {name: value for name, value in fields.items() if value is not None}
        versions[version] = documents.stored({**versions[version], **changed, "status": to.value, "updated_at": now})

    @staticmethod
    def _moved(model: str, name: str, version: int, lambda_version: str, current: AliasPointer | None, now: str
               ) -> AliasPointer:
        return AliasPointer(model=model, name=name, version=version, lambda_version=lambda_version,
                            revision=(current.revision + 1) if current else 1, updated_at=now)
