"""The registry on one DynamoDB table (pk = MODEL#<name>, sk = VERSION#/ALIAS#/AUDIT#/DATASET#/LOCK#)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from sluice.clock import Clock, iso, system_clock
from sluice.registry import codec, documents
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
_CLAIM_ATTEMPTS = 20


class DynamoDBRegistry(RegistryStore):
    """Conditional writes only; status changes and alias moves are transactions with their audit entry."""

    def __init__(self, dynamodb_client: Any, table_name: str, *, clock: Clock = system_clock) -> None:
        self._db = dynamodb_client
        self._table = table_name
        self._clock = clock

    # -- versions ---------------------------------------------------------------------------------

    def claim_version(
        self, model: str, *, data_version: str, code_version: str, lineage: dict[str, Any], actor: str,
        correlation_id: str, claim_key: str | None = None, reason: str = "training started",
    ) -> ModelVersion:
        if claim_key is not None and (claimed := self._claimed(model, claim_key)) is not None:
            return claimed
        for _ in range(_CLAIM_ATTEMPTS):
            latest = self._latest_version_number(model)
            now = self._now()
            document = {
                "pk": codec.model_pk(model), "sk": codec.version_sk(latest + 1), "model": model,
                "version": latest + 1, "status": Status.TRAINING.value, "data_version": data_version,
                "code_version": code_version, "lineage": lineage, "created_at": now, "updated_at": now,
            }
            audit = self._audit_put(model, f"v{latest + 1}", "created (training)", reason, actor,
                                    correlation_id, now)
            operations = [
                {"Put": {"TableName": self._table, "Item": codec.to_item(document),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                audit,
            ]
            if claim_key is not None:  # the key → version marker, written with the version or not at all
                marker = {"pk": codec.model_pk(model), "sk": _claim_sk(claim_key), "model": model,
                          "version": latest + 1, "claimed_at": now}
                operations.append({"Put": {"TableName": self._table, "Item": codec.to_item(marker),
                                           "ConditionExpression": "attribute_not_exists(pk)"}})
            try:
                self._transact(operations)
            except ConcurrentUpdateError:
                if claim_key is not None and (claimed := self._claimed(model, claim_key)) is not None:
                    return claimed  # the same claim won concurrently
                continue
            return documents.version_from(document)
        raise ConcurrentUpdateError(f"could not claim a version of {model} after {_CLAIM_ATTEMPTS} attempts")

    def _claimed(self, model: str, claim_key: str) -> ModelVersion | None:
        marker = self._get(codec.model_pk(model), _claim_sk(claim_key))
        return None if marker is None else self.get_version(model, int(marker["version"]))

    def get_version(self, model: str, version: int) -> ModelVersion:
        item = self._get(codec.model_pk(model), codec.version_sk(version))
        if item is None:
            raise VersionNotFoundError(f"{model} v{version} does not exist")
        return documents.version_from(item)

    def list_versions(self, model: str) -> list[ModelVersion]:
        return [documents.version_from(item) for item in self._query(model, codec.VERSION_PREFIX)]

    def transition(
        self, model: str, version: int, *, to: Status, reason: str, actor: str, correlation_id: str,
        fields: dict[str, Any] | None = None, trigger: str = "",
    ) -> ModelVersion:
        current = self.get_version(model, version)
        check_transition(current.status, to)
        now = self._now()
        self._transact([
            self._status_update(model, version, current.status, to, now, fields or {}),
            self._audit_put(model, f"v{version}", f"{current.status.value} → {to.value}", reason, actor,
                            correlation_id, now, trigger=trigger),
        ])
        return self.get_version(model, version)

    # -- aliases ----------------------------------------------------------------------------------

    def get_alias(self, model: str, name: str) -> AliasPointer | None:
        item = self._get(codec.model_pk(model), codec.alias_sk(name))
        return None if item is None else documents.alias_from(item)

    def promote(
        self, model: str, version: int, *, lambda_version: str, reason: str, actor: str, correlation_id: str,
        deployment: Deployment | None = None, trigger: str = "",
    ) -> ModelVersion:
        candidate = self.get_version(model, version)
        check_transition(candidate.status, Status.LIVE)
        live = self.get_alias(model, LIVE)
        previous = self.get_alias(model, PREVIOUS)
        now = self._now()
        replaced = live.version if live else None
        operations = [
            self._status_update(model, version, candidate.status, Status.LIVE, now,
                                {"lambda_version": lambda_version, "replaced_version": replaced}),
            self._alias_put(model, LIVE, version, lambda_version, live, now),
            self._audit_put(model, f"v{version}", f"{candidate.status.value} → live", reason, actor,
                            correlation_id, now, trigger=trigger),
        ]
        if live is not None:
            operations.append(self._status_update(model, live.version, Status.LIVE, Status.PREVIOUS, now, {}))
            operations.append(self._alias_put(model, PREVIOUS, live.version, live.lambda_version, previous, now))
            operations.append(self._audit_put(model, f"v{live.version}", "live → previous",
                                              f"replaced by v{version}", actor, correlation_id, now, seq=1,
                                              trigger=trigger))
        if deployment is not None:
            operations.append(self._deployment_delete(deployment))
        operations.append(self._endpoint_changed(model, now))
        self._transact(operations)
        return self.get_version(model, version)

    def rollback(
        self, model: str, *, reason: str, actor: str, correlation_id: str, trigger: str = "",
    ) -> tuple[ModelVersion, ModelVersion]:
        live = self.get_alias(model, LIVE)
        previous = self.get_alias(model, PREVIOUS)
        if live is None or previous is None:
            raise RegistryError(f"{model} has no previous good version to roll back to")
        target = self.get_version(model, previous.version)
        if target.status is not Status.PREVIOUS:
            raise RegistryError(f"{target.label} is {target.status.value}, not a known-good previous version")
        now = self._now()
        operations = [
            self._status_update(model, live.version, Status.LIVE, Status.ROLLED_BACK, now, {}),
            self._status_update(model, target.version, Status.PREVIOUS, Status.LIVE, now, {}),
            self._alias_put(model, LIVE, target.version, target.lambda_version, live, now),
            self._audit_put(model, f"v{live.version}", "live → rolled_back", reason, actor, correlation_id, now,
                            trigger=trigger),
            self._audit_put(model, f"v{target.version}", "previous → live", f"rollback from v{live.version}",
                            actor, correlation_id, now, seq=1, trigger=trigger),
        ]
        earlier = self._known_good(model, target.replaced_version)
        if earlier is not None:
            operations.append(self._alias_put(model, PREVIOUS, earlier.version, earlier.lambda_version, previous, now))
        else:
            operations.append({"Delete": {
                "TableName": self._table, "Key": self._key(model, codec.alias_sk(PREVIOUS)),
                "ConditionExpression": "revision = :rev",
                "ExpressionAttributeValues": {":rev": {"N": str(previous.revision)}},
            }})
        operations.append(self._endpoint_changed(model, now, rolled_back=True))
        self._transact(operations)
        return self.get_version(model, live.version), self.get_version(model, target.version)

    def history(self, model: str) -> list[AuditEntry]:
        return [documents.audit_from(item) for item in self._query(model, codec.AUDIT_PREFIX)]

    # -- releases in progress ---------------------------------------------------------------------

    def get_deployment(self, model: str) -> Deployment | None:
        item = self._get(codec.model_pk(model), codec.ACTIVE_DEPLOYMENT_SK)
        return None if item is None else documents.deployment_from(item)

    def start_deployment(
        self, deployment: Deployment, *, reason: str, actor: str, trigger: str = "",
    ) -> Deployment:
        model = deployment.model
        candidate = self.get_version(model, deployment.version)
        check_transition(candidate.status, Status.CANARY)
        now = self._now()
        try:
            self._transact([
                {"Put": {"TableName": self._table, "Item": codec.to_item(_deployment_document(deployment)),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                self._status_update(model, deployment.version, candidate.status, Status.CANARY, now,
                                    {"lambda_version": deployment.candidate_lambda_version}),
                self._audit_put(model, f"v{deployment.version}", f"{candidate.status.value} → canary", reason,
                                actor, deployment.correlation_id, now, trigger=trigger),
                self._endpoint_changed(model, now),
            ])
        except ConcurrentUpdateError as error:
            active = self.get_deployment(model)
            if active is not None:
                raise DeploymentInProgressError(
                    f"{active.label} is in progress (stage {active.stage + 1}/{active.stages}, started "
                    f"{active.started_at})") from error
            raise
        return deployment

    def update_deployment(
        self, current: Deployment, updated: Deployment, *, change: str, reason: str, actor: str, trigger: str = "",
    ) -> Deployment:
        stored = replace(updated, revision=current.revision + 1)
        now = self._now()
        self._transact([
            {"Put": {"TableName": self._table, "Item": codec.to_item(_deployment_document(stored)),
                     "ConditionExpression": "revision = :rev",
                     "ExpressionAttributeValues": {":rev": {"N": str(current.revision)}}}},
            self._audit_put(current.model, f"v{current.version}", change, reason, actor, current.correlation_id,
                            now, trigger=trigger),
        ])
        return stored

    def end_deployment(
        self, current: Deployment, *, to: Status, reason: str, actor: str, trigger: str = "",
    ) -> ModelVersion:
        check_transition(Status.CANARY, to)
        now = self._now()
        self._transact([
            self._deployment_delete(current),
            self._status_update(current.model, current.version, Status.CANARY, to, now, {}),
            self._audit_put(current.model, f"v{current.version}", f"canary → {to.value}", reason, actor,
                            current.correlation_id, now, trigger=trigger),
            self._endpoint_changed(current.model, now, rolled_back=to is not Status.LIVE),
        ])
        return self.get_version(current.model, current.version)

    def queue_deployment(self, model: str, version: int, *, correlation_id: str, actor: str, trigger: str = ""
                         ) -> bool:
        now = self._now()
        document = {"pk": codec.model_pk(model), "sk": codec.queued_deployment_sk(version), "model": model,
                    "version": version, "correlation_id": correlation_id, "queued_at": now}
        try:
            self._transact([
                {"Put": {"TableName": self._table, "Item": codec.to_item(document),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                self._audit_put(model, f"v{version}", "queued for release", "another release is in progress",
                                actor, correlation_id, now, trigger=trigger),
            ])
        except ConcurrentUpdateError:
            return False
        return True

    def queued_deployments(self, model: str) -> list[QueuedDeployment]:
        return [documents.queued_from(item) for item in self._query(model, codec.QUEUED_DEPLOYMENT_PREFIX)]

    def take_queued(self, model: str, version: int) -> bool:
        try:
            self._db.delete_item(TableName=self._table, Key=self._key(model, codec.queued_deployment_sk(version)),
                                 ConditionExpression="attribute_exists(pk)")
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def last_endpoint_change(self, model: str) -> EndpointChange | None:
        marker = self._get(codec.model_pk(model), codec.ENDPOINT_CHANGED_SK)
        if marker is not None:
            return EndpointChange(str(marker["at"]), rolled_back=bool(marker.get("rolled_back", False)))
        live = self.get_alias(model, LIVE)
        return EndpointChange(live.updated_at) if live else None

    def note(self, model: str, *, subject: str, change: str, reason: str, actor: str, correlation_id: str,
             trigger: str = "") -> None:
        self._transact([self._audit_put(model, subject, change, reason, actor, correlation_id, self._now(),
                                        trigger=trigger)])

    # -- datasets ---------------------------------------------------------------------------------

    def record_dataset(self, record: DatasetRecord, *, recorded_by: str | None = None) -> bool:
        document = {
            "pk": codec.model_pk(record.model), "sk": codec.dataset_sk(record.data_version),
            "model": record.model, "data_version": record.data_version, "rows": record.rows,
            "data_key": record.data_key, "sources": list(record.sources), "accepted_at": record.accepted_at,
            "contract_version": record.contract_version, "origin": record.origin,
        }
        if recorded_by is not None:
            document["recorded_by"] = recorded_by
        try:
            self._db.put_item(TableName=self._table, Item=codec.to_item(document),
                              ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            if recorded_by is None or not self._recorded_by(record, recorded_by):
                self._add_sources(record)
                return False
            # the same drop recorded it before a crash: finish the pointer and report it as new again
        if record.origin != "drop":
            return True
        pointer = {**document, "sk": codec.LATEST_DATASET_SK}
        try:
            self._db.put_item(
                TableName=self._table, Item=codec.to_item(pointer),
                ConditionExpression="attribute_not_exists(pk) OR accepted_at <= :at",
                ExpressionAttributeValues={":at": {"S": record.accepted_at}},
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
        return True

    def latest_dataset(self, model: str) -> DatasetRecord | None:
        item = self._get(codec.model_pk(model), codec.LATEST_DATASET_SK)
        return None if item is None else documents.dataset_from(item)

    def list_datasets(self, model: str) -> list[DatasetRecord]:
        records = [documents.dataset_from(item) for item in self._query(model, codec.dataset_sk(""))]
        return sorted(records, key=lambda record: (record.accepted_at, record.data_version))

    # -- leases ---------------------------------------------------------------------------------

    def acquire_lease(self, model: str, name: str, *, owner: str, ttl_s: float, trigger: str = "",
                      force: bool = False) -> LeaseGrant:
        now = self._clock()
        request: dict[str, Any] = {
            "TableName": self._table, "Key": self._key(model, codec.lease_sk(name)),
            "UpdateExpression": "SET #o = :owner, #t = :trigger, acquired_at = :at, lease_until = :lease",
            "ExpressionAttributeNames": {"#o": "owner", "#t": "trigger"},
            "ExpressionAttributeValues": {":owner": {"S": owner}, ":trigger": {"S": trigger}, ":at": {"S": iso(now)},
                                          ":lease": {"N": str(int(now + ttl_s))}},
            "ReturnValues": "ALL_NEW",
        }
        if not force:  # Lease.free_for, as a condition
            request["ConditionExpression"] = (
                "attribute_not_exists(pk) OR #o = :owner OR ("
                "(attribute_not_exists(lease_until) OR lease_until < :now) AND "
                "(attribute_not_exists(cooldown_until) OR cooldown_until < :now))")
            request["ExpressionAttributeValues"][":now"] = {"N": str(int(now))}
        try:
            response = self._db.update_item(**request)
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            held = self.get_lease(model, name)
            if held is None:  # lease items are never deleted: it cannot vanish between the write and the read
                raise RegistryError(f"the {name} lease of {model} refused {owner} and then vanished") from error
            return LeaseGrant(False, held, now)
        return LeaseGrant(True, documents.lease_from(codec.from_item(response["Attributes"]), model=model, name=name),
                          now)

    def release_lease(self, model: str, name: str, *, owner: str, cooldown_s: float | None = None) -> bool:
        now = self._clock()
        values = {":zero": {"N": "0"}, ":owner": {"S": owner}, ":at": {"S": iso(now)}}
        update = "SET lease_until = :zero, released_at = :at"
        if cooldown_s is not None:
            update += ", cooldown_until = :until"
            values[":until"] = {"N": str(int(now + cooldown_s))}
        try:
            self._db.update_item(TableName=self._table, Key=self._key(model, codec.lease_sk(name)),
                                 UpdateExpression=update, ConditionExpression="#o = :owner",
                                 ExpressionAttributeNames={"#o": "owner"}, ExpressionAttributeValues=values)
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def get_lease(self, model: str, name: str) -> Lease | None:
        item = self._get(codec.model_pk(model), codec.lease_sk(name))
        return None if item is None else documents.lease_from(item, model=model, name=name)

    # -- helpers ----------------------------------------------------------------------------------

    def _now(self) -> str:
        return iso(self._clock())

    def _key(self, model: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": codec.model_pk(model)}, "sk": {"S": sk}}

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._db.get_item(TableName=self._table, Key={"pk": {"S": pk}, "sk": {"S": sk}},
                                     ConsistentRead=True)
        item = response.get("Item")
        return None if item is None else codec.from_item(item)

    def _query(self, model: str, prefix: str, *, newest_first: bool = False, limit: int | None = None
               ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "ConsistentRead": True, "ScanIndexForward": not newest_first,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": codec.model_pk(model)}, ":prefix": {"S": prefix}},
        }
        if limit is not None:
            kwargs["Limit"] = limit
        items: list[dict[str, Any]] = []
        while True:
            response = self._db.query(**kwargs)
            items.extend(codec.from_item(item) for item in response.get("Items", []))
            if limit is not None or "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _latest_version_number(self, model: str) -> int:
        newest = self._query(model, codec.VERSION_PREFIX, newest_first=True, limit=1)
        return int(newest[0]["version"]) if newest else 0

    def _known_good(self, model: str, version: int | None) -> ModelVersion | None:
        if version is None:
            return None
        candidate = self.get_version(model, version)
        return candidate if candidate.status is Status.PREVIOUS else None

    def _status_update(self, model: str, version: int, current: Status, to: Status, now: str,
                       fields: dict[str, Any]) -> dict[str, Any]:
        names = {"#s": "status", "#u": "updated_at"}
        values = {":from": {"S": current.value}, ":to": {"S": to.value}, ":now": {"S": now}}
        assignments = ["#s = :to", "#u = :now"]
        for index, (name, value) in enumerate(sorted(fields.items())):
            if value is None:
                continue
            names[f"#f{index}"] = name
            values[f":f{index}"] = codec.to_value(value)
            assignments.append(f"#f{index} = :f{index}")
        return {"Update": {
            "TableName": self._table, "Key": self._key(model, codec.version_sk(version)),
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ConditionExpression": "#s = :from",
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
        }}

    def _alias_put(self, model: str, name: str, version: int, lambda_version: str,
                   current: AliasPointer | None, now: str) -> dict[str, Any]:
        document = {"pk": codec.model_pk(model), "sk": codec.alias_sk(name), "model": model, "name": name,
                    "version": version, "lambda_version": lambda_version,
                    "revision": (current.revision + 1) if current else 1, "updated_at": now}
        put: dict[str, Any] = {"TableName": self._table, "Item": codec.to_item(document)}
        if current is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "revision = :rev"
            put["ExpressionAttributeValues"] = {":rev": {"N": str(current.revision)}}
        return {"Put": put}

    def _audit_put(self, model: str, subject: str, change: str, reason: str, actor: str, correlation_id: str,
                   now: str, *, seq: int = 0, trigger: str = "") -> dict[str, Any]:
        document = {"pk": codec.model_pk(model), "sk": f"{codec.AUDIT_PREFIX}{now}#{seq}#{uuid.uuid4().hex[:8]}",
                    "model": model, "at": now, "subject": subject, "change": change, "reason": reason,
                    "actor": actor, "correlation_id": correlation_id, "trigger": trigger or None}
        return {"Put": {"TableName": self._table, "Item": codec.to_item(document),
                        "ConditionExpression": "attribute_not_exists(pk)"}}

    def _endpoint_changed(self, model: str, now: str, *, rolled_back: bool = False) -> dict[str, Any]:
        """Traffic moved (promote, rollback, release start or end): what stale alarms are judged against."""
        return {"Put": {"TableName": self._table, "Item": codec.to_item(
            {"pk": codec.model_pk(model), "sk": codec.ENDPOINT_CHANGED_SK, "model": model, "at": now,
             "rolled_back": rolled_back})}}

    def _deployment_delete(self, deployment: Deployment) -> dict[str, Any]:
        return {"Delete": {
            "TableName": self._table, "Key": self._key(deployment.model, codec.ACTIVE_DEPLOYMENT_SK),
            "ConditionExpression": "revision = :rev",
            "ExpressionAttributeValues": {":rev": {"N": str(deployment.revision)}},
        }}

    def _transact(self, operations: list[dict[str, Any]]) -> None:
        try:
            self._db.transact_write_items(TransactItems=operations)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                raise ConcurrentUpdateError(f"registry changed concurrently: {error}") from error
            raise

    def _recorded_by(self, record: DatasetRecord, recorded_by: str) -> bool:
        """The data version was first recorded by ``recorded_by`` (a rerun of that drop, not another drop)."""
        existing = self._get(codec.model_pk(record.model), codec.dataset_sk(record.data_version)) or {}
        return existing.get("recorded_by") == recorded_by

    def _add_sources(self, record: DatasetRecord) -> None:
        existing = self._get(codec.model_pk(record.model), codec.dataset_sk(record.data_version)) or {}
        sources = list(existing.get("sources", []))
        new = [source for source in record.sources if source not in sources]
        if not new:
            return
        try:
            self._db.update_item(
                TableName=self._table, Key=self._key(record.model, codec.dataset_sk(record.data_version)),
                UpdateExpression="SET sources = :all",
                ConditionExpression="size(sources) = :count",
                ExpressionAttributeValues={":all": codec.to_value(sources + new),
                                           ":count": {"N": str(len(sources))}},
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise


def _claim_sk(claim_key: str) -> str:
    return f"CLAIM#{claim_key}"


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _deployment_document(deployment: Deployment) -> dict[str, Any]:
    return {"pk": codec.model_pk(deployment.model), "sk": codec.ACTIVE_DEPLOYMENT_SK, **deployment.__dict__}
