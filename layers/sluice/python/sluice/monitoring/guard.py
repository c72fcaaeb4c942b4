"""Debounce triggered retraining: one item per model in the registry table, changed by conditional writes only.

A retrain may start when none is running (its lease expired or was released) and the cool-down of the last
triggered one has passed. The cool-down starts at release, and only after a successful train (a failed one
leaves the next trigger free to try again). Drift events and quality alarms that arrive meanwhile are
acknowledged and dropped, so a burst of triggers starts one retrain, not a storm. Scheduled retrains take the
lease unconditionally (the schedule is the user's explicit intent): triggers wait while they run, but they start
no cool-down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sluice.clock import Clock, iso, system_clock
from sluice.registry import codec

GUARD_SK = "RETRAIN#guard"


@dataclass(frozen=True)
class GuardDecision:
    acquired: bool
    reason: str
    busy_until: float = 0.0


class RetrainGuard:
    """The retrain lease and cool-down of each model."""

    def __init__(self, dynamodb_client: Any, table_name: str, *, clock: Clock = system_clock) -> None:
        self._db = dynamodb_client
        self._table = table_name
        self._clock = clock

    def acquire(self, model: str, *, owner: str, trigger: str, lease_s: float, force: bool = False) -> GuardDecision:
        """Take the guard for ``owner``; refused while a retrain runs or the cool-down lasts (unless ``force``)."""
        now = self._clock()
        request: dict[str, Any] = {
            "TableName": self._table, "Key": self._key(model),
            "UpdateExpression": "SET #o = :owner, #t = :trigger, acquired_at = :at, lease_until = :lease",
            "ExpressionAttributeNames": {"#o": "owner", "#t": "trigger"},
            "ExpressionAttributeValues": {":owner": {"S": owner}, ":trigger": {"S": trigger}, ":at": {"S": iso(now)},
                                          ":lease": {"N": str(int(now + lease_s))}},
        }
        if not force:
            request["ConditionExpression"] = (
                "(attribute_not_exists(lease_until) OR lease_until < :now) AND "
                "(attribute_not_exists(cooldown_until) OR cooldown_until < :now)")
            request["ExpressionAttributeValues"][":now"] = {"N": str(int(now))}
        try:
            self._db.update_item(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            held = self.state(model)
            lease, cooldown = float(held.get("lease_until", 0)), float(held.get("cooldown_until", 0))
            why = "a retrain is running" if lease >= now else "the retrain cool-down has not passed"
            return GuardDecision(False, f"{why} (last taken {held.get('acquired_at')} by {held.get('trigger')}) "
                                        f"until {iso(max(lease, cooldown))}", max(lease, cooldown))
        return GuardDecision(True, f"guard taken for {trigger}")

    def release(self, model: str, *, owner: str, cooldown_s: float | None) -> None:
        """End ``owner``'s retrain; start a cool-down of ``cooldown_s`` (None: leave the cool-down as it is)."""
        now = self._clock()
        values = {":zero": {"N": "0"}, ":owner": {"S": owner}, ":at": {"S": iso(now)}}
        update = "SET lease_until = :zero, released_at = :at"
        if cooldown_s is not None:
            update += ", cooldown_until = :until"
            values[":until"] = {"N": str(int(now + cooldown_s))}
        try:
            self._db.update_item(TableName=self._table, Key=self._key(model), UpdateExpression=update,
                                 ConditionExpression="#o = :owner", ExpressionAttributeNames={"#o": "owner"},
                                 ExpressionAttributeValues=values)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def _key(self, model: str) -> dict[str, Any]:
        return {"pk": {"S": codec.model_pk(model)}, "sk": {"S": GUARD_SK}}

    def state(self, model: str) -> dict[str, Any]:
        response = self._db.get_item(TableName=self._table, ConsistentRead=True, Key=self._key(model))
        return codec.from_item(response["Item"]) if "Item" in response else {}
