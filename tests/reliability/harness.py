"""Drive the local stack the way AWS delivers: at least once, in any order, concurrently, retried after failures.

``Dispatcher`` takes every event the wiring routes (EventBridge → the route queues of the local stack)
and delivers it itself: each one ``copies`` times, in a seeded random order, on ``workers`` threads invoking
handlers at the same time, redelivering an event whose handler raised (Lambda's asynchronous retries). Every
failure is recorded with its kind, so a test tells the faults it injected from real ones. ``snapshot`` is the
state a test compares.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from sluice.deployment import RELEASE_LEASE
from sluice.local import LocalCloud, host
from sluice.naming import EVENT_SOURCE, LIVE_ALIAS
from sluice.registry import DynamoDBRegistry, Status
from sluice.wiring import ROUTES
from tests.reliability.faults import was_injected

REPO = Path(__file__).resolve().parents[2]
MAX_ATTEMPTS = 60  # per delivery; far above what any scenario needs, so a livelock fails loudly
IN_PROGRESS = "IdempotencyAlreadyInProgressError"
LEASE_HELD = "DeployLockHeldError"
DEADLOCK_GUARD_S = 300  # how long a held invocation waits for its partners (reached only if they never come)

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


@dataclass(eq=False)
class Delivery:
    """One event on its way to one function (each copy its own object)."""

    function: str
    event: dict[str, Any]
    attempts: int = 0
    overlapped: bool = False  # another copy of the event ran during this one's latest attempt
    beside: bool = False  # another invocation of the same function ran during this one's latest attempt

    @property
    def key(self) -> str:
        """What makes two deliveries copies of one event."""
        return f"{self.function}:{json.dumps(self.event, sort_keys=True)}"


class FailureKind(StrEnum):
    INJECTED = "injected"  # a fault a test injected (faults.py) made the handler raise
    BUSY = "busy"  # Powertools refused a copy while another copy of the same event was running (retried after it)
    CONTENDED = "contended"  # the model's deploy lease was held by another deploy_model running at the same time
    STALE = "stale"  # an earlier run died leaving its idempotency record in progress (redriven once it expires)
    ERROR = "error"  # anything else: a real failure


@dataclass(frozen=True)
class Failure:
    """One handler invocation that raised."""

    function: str
    kind: FailureKind
    error: str


@dataclass
class Dispatcher:
    """At-least-once, out-of-order, concurrent delivery of everything the wiring routes."""

    cloud: LocalCloud
    copies: int = 1
    seed: int = 0
    late_copies: int = 0  # copies held back until ``deliver_late`` (after later phases)
    workers: int = 1  # handler invocations running at once
    published: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    late: list[Delivery] = field(default_factory=list)
    pool: list[Delivery] = field(default_factory=list)
    max_in_flight: int = 0
    """The most handler invocations that were running at the same moment."""

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._running: dict[str, list[Delivery]] = {}  # by event (copies)
        self._peers: dict[str, list[Delivery]] = {}  # by function
        self._waiting: list[Delivery] = []  # BUSY, CONTENDED: redelivered when no copy or peer of theirs runs
        self._parked: list[Delivery] = []  # STALE: redelivered when nothing runs (the record's window has passed)

    def add(self, function: str, event: dict[str, Any]) -> None:
        """Queue an event the local stack cannot route by itself (a schedule firing)."""
        self.pool.extend(Delivery(function, event) for _ in range(self.copies))
        self.late.extend(Delivery(function, event) for _ in range(self.late_copies))

    def failure_kinds(self) -> Counter[FailureKind]:
        return Counter(failure.kind for failure in self.failures)

    def run(self) -> int:
        """Deliver until nothing is queued, routed or running; returns how many invocations ran."""
        ran = 0
        running: dict[Future[BaseException | None], Delivery] = {}
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="lambda") as executor:
            while True:
                for function, event in self._collect():
                    self.add(function, event)
                busy = {name for delivery in running.values() for name in (delivery.key, delivery.function)}
                ready = [delivery for delivery in self._waiting if not {delivery.key, delivery.function} & busy]
                self._waiting = [delivery for delivery in self._waiting if delivery not in ready]
                self.pool += ready
                if not self.pool and not running:
                    if not self._parked:
                        return ran
                    # nothing runs, so every unfinished record is a dead run's: its window (the timeout) has passed
                    expire_in_progress(self.cloud)
                    self.pool, self._parked = self._parked, []
                while self.pool and len(running) < self.workers:
                    delivery = self.pool.pop(self._rng.randrange(len(self.pool)))
                    running[executor.submit(self._invoke, delivery)] = delivery
                    ran += 1
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    delivery = running.pop(future)
                    error = future.result()
                    if error is not None:
                        self._failed(delivery, error)

    def deliver_late(self) -> int:
        """Deliver the held-back copies (shuffled), then whatever they cause."""
        self.pool.extend(self.late)
        self.late = []
        return self.run()

    def _invoke(self, delivery: Delivery) -> BaseException | None:
        """One invocation on a worker thread; returns what it raised."""
        delivery.attempts += 1
        with self._lock:
            twins = self._running.setdefault(delivery.key, [])
            delivery.overlapped = bool(twins)
            for twin in twins:
                twin.overlapped = True
            twins.append(delivery)
            peers = self._peers.setdefault(delivery.function, [])
            delivery.beside = bool(peers)
            for peer in peers:
                peer.beside = True
            peers.append(delivery)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            self.cloud.invoke(delivery.function, delivery.event)
        except Exception as error:
            return error
        finally:
            with self._lock:
                self._in_flight -= 1
                self._running[delivery.key].remove(delivery)
                self._peers[delivery.function].remove(delivery)
        return None

    def _failed(self, delivery: Delivery, error: BaseException) -> None:
        """Record the failure, then redeliver as Lambda would: at once, after the running copy, or after a redrive."""
        name = type(error).__name__
        if was_injected(error):
            kind = FailureKind.INJECTED
        elif name == IN_PROGRESS:
            kind = FailureKind.BUSY if delivery.overlapped else FailureKind.STALE
        elif name == LEASE_HELD and delivery.beside:  # on AWS: raised, so Lambda retries it after the holder ends
            kind = FailureKind.CONTENDED
        else:
            kind = FailureKind.ERROR
        self.failures.append(Failure(delivery.function, kind, f"{name}: {error}"))
        if delivery.attempts >= MAX_ATTEMPTS:
            raise AssertionError(f"{delivery.function} never succeeded on {delivery.event}") from error
        if kind in (FailureKind.BUSY, FailureKind.CONTENDED):
            self._waiting.append(delivery)
        elif kind is FailureKind.STALE:
            self._parked.append(delivery)
        else:
            self.pool.append(delivery)

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


class HeldTogether:
    """The first ``count`` invocations of each group (``group`` names it, or None for one left alone) wait for
    each other inside the function host, where an invocation holds whatever the host serialises on, just before
    their handlers run: so they run at the same time whatever the scheduling. Records the most invocations of each
    group that were inside the host at once.

    A dispatcher running one invocation at a time, or a host running one at a time, never gets past the wait: the
    barrier breaks after ``DEADLOCK_GUARD_S`` and the held invocations fail.
    """

    def __init__(self, group: Callable[[str, dict[str, Any]], str | None], count: int = 2) -> None:
        self._group = group
        self._count = count
        self._lock = threading.Lock()
        self._here = threading.local()
        self._barriers: dict[str, threading.Barrier] = {}
        self._arrived: Counter[str] = Counter()
        self._inside: Counter[str] = Counter()
        self.most_at_once: Counter[str] = Counter()

    def install(self, cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
        """Wrap ``cloud.invoke`` (which invocation is which) and the host's context factory (where they wait)."""
        invoke, context = cloud.invoke, host.LocalLambdaContext

        def grouped(function: str, event: dict[str, Any]) -> Any:
            self._here.group = self._group(function, event)
            try:
                return invoke(function, event)
            finally:
                if self._here.group is not None and getattr(self._here, "entered", False):
                    with self._lock:
                        self._inside[self._here.group] -= 1
                self._here.group, self._here.entered = None, False

        def held(*args: Any, **kwargs: Any) -> Any:
            name = getattr(self._here, "group", None)
            if name is not None:
                with self._lock:
                    self._arrived[name] += 1
                    barrier = self._barriers.setdefault(name, threading.Barrier(self._count,
                                                                                timeout=DEADLOCK_GUARD_S))
                    wait = self._arrived[name] <= self._count
                    self._inside[name] += 1
                    self.most_at_once[name] = max(self.most_at_once[name], self._inside[name])
                self._here.entered = True
                if wait:
                    barrier.wait()
            return context(*args, **kwargs)

        monkeypatch.setattr(cloud, "invoke", grouped)
        monkeypatch.setattr(host, "LocalLambdaContext", held)


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
