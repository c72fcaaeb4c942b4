"""The registry on one DynamoDB table (pk = MODEL#<name>, sk = VERSION#/ALIAS#/AUDIT#/DATASET#/LOCK#)."""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from sluice.clock import Clock, iso, system_clock
from sluice.registry import codec
from sluice.registry.entities import AliasPointer, AuditEntry, DatasetRecord, ModelVersion, Status
from sluice.registry.errors import (
    ConcurrentUpdateError,
    DeployLockHeldError,
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
        correlation_id: str,
    ) -> ModelVersion:
        for _ in range(_CLAIM_ATTEMPTS):
            latest = self._latest_version_number(model)
            now = self._now()
            document = {
                "pk": codec.model_pk(model), "sk": codec.version_sk(latest + 1), "model": model,
                "version": latest + 1, "status": Status.TRAINING.value, "data_version": data_version,
                "code_version": code_version, "lineage": lineage, "created_at": now, "updated_at": now,
            }
            audit = self._audit_put(model, f"v{latest + 1}", "created (training)", "training started", actor,
                                    correlation_id, now)
            try:
                self._transact([
                    {"Put": {"TableName": self._table, "Item": codec.to_item(document),
                             "ConditionExpression": "attribute_not_exists(pk)"}},
                    audit,
                ])
            except ConcurrentUpdateError:
                continue
            return codec.version_from(document)
        raise ConcurrentUpdateError(f"could not claim a version of {model} after {_CLAIM_ATTEMPTS} attempts")

    def get_version(self, model: str, version: int) -> ModelVersion:
        item = self._get(codec.model_pk(model), codec.version_sk(version))
        if item is None:
            raise VersionNotFoundError(f"{model} v{version} does not exist")
        return codec.version_from(item)

    def list_versions(self, model: str) -> list[ModelVersion]:
        return [codec.version_from(item) for item in self._query(model, codec.VERSION_PREFIX)]

    def transition(
        self, model: str, version: int, *, to: Status, reason: str, actor: str, correlation_id: str,
        fields: dict[str, Any] | None = None,
    ) -> ModelVersion:
        current = self.get_version(model, version)
        check_transition(current.status, to)
        now = self._now()
        self._transact([
            self._status_update(model, version, current.status, to, now, fields or {}),
            self._audit_put(model, f"v{version}", f"{current.status.value} → {to.value}", reason, actor,
                            correlation_id, now),
        ])
        return self.get_version(model, version)

    # -- aliases ----------------------------------------------------------------------------------

    def get_alias(self, model: str, name: str) -> AliasPointer | None:
        item = self._get(codec.model_pk(model), codec.alias_sk(name))
        return None if item is None else codec.alias_from(item)

    def promote(
        self, model: str, version: int, *, lambda_version: str, reason: str, actor: str, correlation_id: str,
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
                            correlation_id, now),
        ]
        if live is not None:
            operations.append(self._status_update(model, live.version, Status.LIVE, Status.PREVIOUS, now, {}))
            operations.append(self._alias_put(model, PREVIOUS, live.version, live.lambda_version, previous, now))
            operations.append(self._audit_put(model, f"v{live.version}", "live → previous",
                                              f"replaced by v{version}", actor, correlation_id, now, seq=1))
        self._transact(operations)
        return self.get_version(model, version)

    def rollback(
        self, model: str, *, reason: str, actor: str, correlation_id: str
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
            self._audit_put(model, f"v{live.version}", "live → rolled_back", reason, actor, correlation_id, now),
            self._audit_put(model, f"v{target.version}", "previous → live", f"rollback from v{live.version}",
                            actor, correlation_id, now, seq=1),
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
        self._transact(operations)
        return self.get_version(model, live.version), self.get_version(model, target.version)

    def history(self, model: str) -> list[AuditEntry]:
        return [codec.audit_from(item) for item in self._query(model, codec.AUDIT_PREFIX)]

    # -- datasets ---------------------------------------------------------------------------------

    def record_dataset(self, record: DatasetRecord) -> bool:
        document = {
            "pk": codec.model_pk(record.model), "sk": codec.dataset_sk(record.data_version),
            "model": record.model, "data_version": record.data_version, "rows": record.rows,
            "data_key": record.data_key, "sources": list(record.sources), "accepted_at": record.accepted_at,
        }
        try:
            self._db.put_item(TableName=self._table, Item=codec.to_item(document),
                              ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            self._add_sources(record)
            return False
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
        return None if item is None else codec.dataset_from(item)

    # -- deploy lock ------------------------------------------------------------------------------

    def acquire_deploy_lock(self, model: str, *, owner: str, ttl_s: int) -> None:
        now = self._clock()
        try:
            self._db.put_item(
                TableName=self._table,
                Item=codec.to_item({"pk": codec.model_pk(model), "sk": codec.DEPLOY_LOCK_SK, "owner": owner,
                                    "expires_at": int(now + ttl_s)}),
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR #o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": {"N": str(int(now))}, ":owner": {"S": owner}},
            )
        except ClientError as error:
            if _is_condition_failure(error):
                holder = self._get(codec.model_pk(model), codec.DEPLOY_LOCK_SK) or {}
                raise DeployLockHeldError(
                    f"a deployment of {model} is in progress ({holder.get('owner', 'unknown')})") from error
            raise

    def release_deploy_lock(self, model: str, *, owner: str) -> None:
        try:
            self._db.delete_item(
                TableName=self._table, Key=self._key(model, codec.DEPLOY_LOCK_SK),
                ConditionExpression="#o = :owner", ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise

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
                   now: str, *, seq: int = 0) -> dict[str, Any]:
        document = {"pk": codec.model_pk(model), "sk": f"{codec.AUDIT_PREFIX}{now}#{seq}#{uuid.uuid4().hex[:8]}",
                    "model": model, "at": now, "subject": subject, "change": change, "reason": reason,
                    "actor": actor, "correlation_id": correlation_id}
        return {"Put": {"TableName": self._table, "Item": codec.to_item(document),
                        "ConditionExpression": "attribute_not_exists(pk)"}}

    def _transact(self, operations: list[dict[str, Any]]) -> None:
        try:
            self._db.transact_write_items(TransactItems=operations)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                raise ConcurrentUpdateError(f"registry changed concurrently: {error}") from error
            raise

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


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
