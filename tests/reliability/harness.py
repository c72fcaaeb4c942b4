"""Drive the local stack the way AWS delivers: at least once, in any order, retried after failures.

``Dispatcher`` takes every event the wiring routes (EventBridge → the route queues of the local stack)
and delivers it itself: each one ``copies`` times, in a seeded random order, redelivering an event whose
handler raised (Lambda's asynchronous retries). ``snapshot`` is the state a test compares.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sluice.deployment import RELEASE_LEASE
from sluice.local import LocalCloud
from sluice.naming import EVENT_SOURCE, LIVE_ALIAS
from sluice.registry import DynamoDBRegistry, Status
from sluice.wiring import ROUTES

REPO = Path(__file__).resolve().parents[2]
MAX_ATTEMPTS = 60  # per delivery; far above what any scenario needs, so a livelock fails loudly


def fast_config(target: Path) -> Path:
    """The project's sluice.toml with the cheapest training: first family only, 3 folds, no tuning or bootstrap,
    and every drop a snapshot (the default data mode: these suites count one training per distinct drop).

    Contracts, gates and schedules are the real ones, so events and outcomes are the real ones too.
    """
    kept: list[str] = []
    skipping = False
    for line in (REPO / "sluice.toml").read_text().splitlines():
        header = re.match(r"^\[\[?([^\]]+)\]\]?\s*$", line)
        if header:
            skipping = header.group(1).endswith((".training.tuning", ".gates.slices", ".gates.bootstrap", ".data"))
        if skipping:
            continue
        line = re.sub(r"^families\s*=\s*\[\s*(\"[^\"]+\").*\]", r"families = [\1]", line)
        line = re.sub(r"^cv_folds\s*=\s*\d+", "cv_folds = 3", line)
        kept.append(line)
    kept += ["", "# reliability: no bootstrap resampling"]
    text = "\n".join(kept) + "\n"
    for model in re.findall(r"^\[models\.([a-z0-9-]+)\]\s*$", text, flags=re.MULTILINE):
        text += f"\n[models.{model}.gates.bootstrap]\nsamples = 0\n"
    target.write_text(text)
    return target


@dataclass
class Delivery:
    """One event on its way to one function."""

    function: str
    event: dict[str, Any]
    attempts: int = 0


@dataclass
class Dispatcher:
    """At-least-once, out-of-order delivery of everything the wiring routes."""

    cloud: LocalCloud
    copies: int = 1
    seed: int = 0
    late_copies: int = 0  # copies held back until ``deliver_late`` (after later phases)
    published: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    late: list[Delivery] = field(default_factory=list)
    pool: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(self, function: str, event: dict[str, Any]) -> None:
        """Queue an event the local stack cannot route by itself (a schedule firing)."""
        self.pool.extend(Delivery(function, event) for _ in range(self.copies))
        self.late.extend(Delivery(function, event) for _ in range(self.late_copies))

    def run(self) -> int:
        """Deliver until nothing is queued or routed; returns how many invocations ran."""
        ran = 0
        while True:
            for function, event in self._collect():
                self.add(function, event)
            if not self.pool:
                return ran
            delivery = self.pool.pop(self._rng.randrange(len(self.pool)))
            ran += 1
            self._invoke(delivery, self.pool)

    def deliver_late(self) -> int:
        """Deliver the held-back copies (shuffled), then whatever they cause."""
        self.pool.extend(self.late)
        self.late = []
        return self.run()

    def _invoke(self, delivery: Delivery, retry_into: list[Delivery]) -> None:
        delivery.attempts += 1
        try:
            self.cloud.invoke(delivery.function, delivery.event)
        except Exception as error:
            self.failures[f"{delivery.function}: {type(error).__name__}"] += 1
            if type(error).__name__ == "IdempotencyAlreadyInProgressError":
                # a crashed run left its record in progress: AWS parks the event (DLQ) until the record's
                # window (the function timeout) has passed; the redrive then runs it again
                expire_in_progress(self.cloud)
            if delivery.attempts >= MAX_ATTEMPTS:
                raise AssertionError(f"{delivery.function} never succeeded on {delivery.event}") from error
            retry_into.append(delivery)  # Lambda retries a failed asynchronous invocation

    def _collect(self) -> list[tuple[str, dict[str, Any]]]:
        routed = []
        for route in ROUTES:
            url = self.cloud.provisioned.route_queues.get(route.name)
            routed += [(route.function, event) for event in self._drain(url)]
        for event in self._drain(self.cloud.provisioned.observer_queue):
            if event.get("source") == EVENT_SOURCE:
                self.published[str(event["detail-type"])] += 1
        return routed

    def _drain(self, url: str | None) -> list[dict[str, Any]]:
        if not url:
            return []
        sqs = self.cloud.clients.sqs
        events: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages")
            if not messages:
                return events
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                events.append(json.loads(message["Body"]))


def expire_in_progress(cloud: LocalCloud) -> int:
    """Let the in-progress window of every unfinished idempotency record run out (time passing)."""
    db = cloud.clients.dynamodb
    table = cloud.settings.idempotency_table
    expired = 0
    for item in db.scan(TableName=table)["Items"]:
        if item.get("status", {}).get("S") == "INPROGRESS":
            db.update_item(TableName=table, Key={"id": item["id"]},
                           UpdateExpression="SET in_progress_expiration = :past",
                           ExpressionAttributeValues={":past": {"N": "1"}})
            expired += 1
    return expired


def registry_of(cloud: LocalCloud) -> DynamoDBRegistry:
    return DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)


def snapshot(cloud: LocalCloud) -> dict[str, Any]:
    """Everything a duplicate or a crash could get wrong, in a comparable form."""
    registry = registry_of(cloud)
    models: dict[str, Any] = {}
    for model in cloud.config.names:
        versions = registry.list_versions(model)
        aliases = {name: registry.get_alias(model, name) for name in ("live", "previous")}
        models[model] = {
            "versions": [(v.version, v.status.value, v.data_version) for v in versions],
            "aliases": {name: alias.version for name, alias in aliases.items() if alias is not None},
            "audit_entries": len(registry.history(model)),
            "endpoint": _endpoint(cloud, model),
        }
    return {
        "models": models,
        "data_keys": _keys(cloud, cloud.settings.data_bucket),
        "artifact_keys": _keys(cloud, cloud.settings.artifact_bucket),
    }


def leftovers(cloud: LocalCloud) -> dict[str, list[str]]:
    """What a clean end state must not hold: versions stuck training, held locks, unfinished idempotency records."""
    db = cloud.clients.dynamodb
    registry_items = db.scan(TableName=cloud.settings.registry_table)["Items"]
    stuck = [f"{item['pk']['S']} {item['sk']['S']}" for item in registry_items
             if item.get("status", {}).get("S") == Status.TRAINING.value]
    registry = registry_of(cloud)
    locks = [f"{model} {RELEASE_LEASE}" for model in cloud.config.names  # a released lease has lease_until 0
             if (lease := registry.get_lease(model, RELEASE_LEASE)) is not None and lease.lease_until > 0]
    idempotency = db.scan(TableName=cloud.settings.idempotency_table)["Items"]
    unfinished = [item["id"]["S"] for item in idempotency if item.get("status", {}).get("S") != "COMPLETED"]
    return {"stuck_versions": stuck, "locks": locks, "unfinished_idempotency": unfinished}


def assert_gap_free(cloud: LocalCloud) -> None:
    registry = registry_of(cloud)
    for model in cloud.config.names:
        numbers = [v.version for v in registry.list_versions(model)]
        assert numbers == list(range(1, len(numbers) + 1)), (model, numbers)


def _endpoint(cloud: LocalCloud, model: str) -> dict[str, Any]:
    awslambda = cloud.clients.awslambda
    function = cloud.settings.names.predict_function(model)
    published = [v["Version"] for v in awslambda.list_versions_by_function(FunctionName=function)["Versions"]
                 if v["Version"] != "$LATEST"]
    try:
        alias = awslambda.get_alias(FunctionName=function, Name=LIVE_ALIAS)
    except awslambda.exceptions.ResourceNotFoundException:
        return {"published": published, "live": None}
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return {"published": published, "live": alias["FunctionVersion"], "weights": weights}


def _keys(cloud: LocalCloud, bucket: str) -> list[str]:
    paginator = cloud.clients.s3.get_paginator("list_objects_v2")
    return sorted(obj["Key"] for page in paginator.paginate(Bucket=bucket) for obj in page.get("Contents", []))
