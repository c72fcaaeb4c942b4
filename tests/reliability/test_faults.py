"""Faults at every AWS call a handler makes: throttling, 500s and timeouts are retried, crashes are survived.

Injection points are (handler, n-th AWS call of the invocation, service.operation). The story of
conftest.play_story exercises validate (accept and quarantine), train (twice), evaluate, deploy and rollback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sluice.local import LocalCloud
from sluice.wiring import ROUTES, BusEventTrigger
from tests.reliability.conftest import CloudFactory, play_story, stack
from tests.reliability.faults import KINDS, CallSite, Fault, FaultInjector
from tests.reliability.harness import Dispatcher, FailureKind, assert_gap_free, leftovers, snapshot
from tests.reliability.server import SerialMotoServer

CLEAN: dict[str, list[str]] = {"stuck_versions": [], "locks": [], "unfinished_idempotency": []}


def _play(cloud: LocalCloud, injector: FaultInjector, monkeypatch: pytest.MonkeyPatch) -> Dispatcher:
    monkeypatch.setattr(cloud, "invoke", injector.wrap(cloud.invoke))
    dispatcher = Dispatcher(cloud)
    play_story(cloud, dispatcher)
    return dispatcher


@pytest.fixture(scope="module")
def baseline(aws: SerialMotoServer, fast_config_path: Path) -> tuple[dict[str, Any], list[CallSite], set[str]]:
    """The story without faults: its end state, every AWS call the handlers made, the events published."""
    injector = FaultInjector()
    with pytest.MonkeyPatch.context() as monkeypatch:
        injector.install(monkeypatch)
        with stack(aws, fast_config_path) as cloud:
            dispatcher = _play(cloud, injector, monkeypatch)
            assert dispatcher.failures == []
            return snapshot(cloud), injector.calls, set(dispatcher.published)


def _without_audit_counts(state: dict[str, Any]) -> dict[str, Any]:
    models = {name: {k: v for k, v in model.items() if k != "audit_entries"} for name, model in state["models"].items()}
    return {**state, "models": models}


def test_a_transient_fault_at_every_call_is_retried_by_botocore(
    baseline: tuple[dict[str, Any], list[CallSite], set[str]], new_cloud: CloudFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN every AWS call of every handler fails once (throttling, 500 and timeout in turn) on its first attempt
    def plan(site: CallSite, http_attempt: int, attempt: int) -> Fault | None:
        return KINDS[site.index % len(KINDS)] if http_attempt == 1 else None

    injector = FaultInjector(plan)
    injector.install(monkeypatch)
    # WHEN the story plays
    cloud = new_cloud()
    dispatcher = _play(cloud, injector, monkeypatch)
    # THEN botocore retried each one: no handler failed and the end state is the fault-free one
    expected, calls, _ = baseline
    assert dispatcher.failures == []
    assert snapshot(cloud) == expected
    assert leftovers(cloud) == CLEAN
    # and every call site of the fault-free run was hit, with every kind of fault
    assert len(injector.injected) == len(injector.calls) >= len(calls)
    assert {site.point for site in injector.calls} == {site.point for site in calls}
    assert {fault for _, fault in injector.injected} == set(KINDS)
    print(f"\ntransient faults: {len(injector.injected)} calls faulted, "
          f"{len({site.point for site in calls})} injection points")


def test_a_handler_killed_at_every_call_is_rerun_to_the_same_end(
    baseline: tuple[dict[str, Any], list[CallSite], set[str]], new_cloud: CloudFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN each attempt of an invocation dies for good at an AWS call no earlier attempt died at (botocore
    # gives up, the handler raises between two writes), until an attempt gets through
    injector = FaultInjector()
    injector.plan = injector.crash_every_point_once
    injector.install(monkeypatch)
    # WHEN the story plays and every failed invocation is delivered again (Lambda's retries, a DLQ redrive)
    cloud = new_cloud()
    dispatcher = _play(cloud, injector, monkeypatch)
    # THEN nothing is lost or doubled: the end state is the fault-free one, nothing stuck, no gap
    # (a rerun may add an audit note, e.g. "alarm ignored", but never a state change)
    expected, calls, published = baseline
    actual = snapshot(cloud)
    assert _without_audit_counts(actual) == _without_audit_counts(expected)
    assert leftovers(cloud) == CLEAN
    assert_gap_free(cloud)
    # and every event another function consumes was published (reruns announce a finished step again)
    consumed = {route.trigger.detail_type.value for route in ROUTES if isinstance(route.trigger, BusEventTrigger)}
    assert consumed & published <= set(dispatcher.published)
    # and the calls of the fault-free run were killed (a point's occurrence number shifts when a rerun resumes,
    # so coverage is counted per handler and operation); the only ones no rerun reaches are deploy_model's and
    # rollback_model's after their state change (a rerun returns early: see infra/README.md, "Reliability")
    killed = {site.point for site, _ in injector.injected}
    unreached = {site.point for site in calls} - killed
    never_killed = {(f, op) for f, op, _ in unreached} - {(f, op) for f, op, _ in killed}
    assert {function for function, _ in never_killed} <= {"deploy_model", "rollback_model"}
    # and every failed run died of an injected fault, or was the rerun that found a dead run's record in progress
    kinds = dispatcher.failure_kinds()
    assert set(kinds) == {FailureKind.INJECTED, FailureKind.STALE}, dispatcher.failures
    assert len(killed) <= kinds[FailureKind.INJECTED] <= injector.crashes
    assert kinds[FailureKind.STALE] <= kinds[FailureKind.INJECTED]
    print(f"\ncrashes: {len(killed)} injection points killed, {kinds[FailureKind.INJECTED]} runs died, "
          f"{kinds[FailureKind.STALE]} reruns waited for the record to expire, never killed: {sorted(never_killed)}")
