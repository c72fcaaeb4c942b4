"""The local function host: plain invocations run at the same time, one with environment overrides runs alone."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from sluice.local.host import FunctionHost, SharedExclusiveLock

DEADLOCK_GUARD_S = 120  # only reached if the host serialised what it must not
HANDLER = '''
import os
LOADS = globals().setdefault("LOADS", [])
LOADS.append(1)

def lambda_handler(event, context):
    for step in event.get("steps", []):
        step()
    return {"seen": os.environ.get("SLUICE_TEST_VALUE"), "function": context.function_name}
'''


@pytest.fixture
def host(tmp_path: Path) -> FunctionHost:
    """A host of one function (named as a real one, for its sizing), whose handler runs the event's steps."""
    (tmp_path / "deploy_model").mkdir()
    (tmp_path / "deploy_model" / "app.py").write_text(HANDLER)
    return FunctionHost(tmp_path)


def _wait_until(condition: Callable[[], bool]) -> None:
    done = threading.Event()
    for _ in range(DEADLOCK_GUARD_S * 100):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError("never happened")


def test_invocations_without_overrides_run_at_the_same_time(host: FunctionHost) -> None:
    # GIVEN a handler that waits until two invocations are inside it
    both_inside = threading.Barrier(2, timeout=DEADLOCK_GUARD_S)
    # WHEN two invocations start from two threads
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: host.invoke("deploy_model", {"steps": [both_inside.wait]}), range(2)))
    # THEN both got through the barrier (a host running one at a time would have broken it), on one loaded module
    assert [result["function"] for result in results] == ["deploy_model", "deploy_model"]
    (module,) = host._modules.values()
    assert module.LOADS == [1]


def test_an_invocation_with_overrides_waits_for_running_ones_then_runs_alone(host: FunctionHost) -> None:
    # GIVEN a plain invocation inside its handler, held there
    inside, release = threading.Event(), threading.Event()
    order: list[str] = []

    def held() -> None:
        inside.set()
        release.wait(DEADLOCK_GUARD_S)
        order.append("plain done")

    with ThreadPoolExecutor(2) as pool:
        plain = pool.submit(host.invoke, "deploy_model", {"steps": [held]})
        assert inside.wait(DEADLOCK_GUARD_S)
        # WHEN an invocation with an environment override arrives
        override = pool.submit(host.invoke, "deploy_model", {"steps": [lambda: order.append("override ran")]},
                               env={"SLUICE_TEST_VALUE": "v2"})
        _wait_until(lambda: host._environ._writers_waiting == 1)
        # THEN it waits until the plain one has finished, then sees its override, which is gone afterwards
        assert order == []
        release.set()
        assert override.result()["seen"] == "v2" and plain.result()["seen"] is None
    assert order == ["plain done", "override ran"]
    assert "SLUICE_TEST_VALUE" not in os.environ


def test_the_lock_is_reentrant_in_the_mode_held_and_refuses_an_upgrade() -> None:
    lock = SharedExclusiveLock()
    # GIVEN the lock held exclusively, WHEN the holder asks again or asks for shared, THEN it gets both
    with lock.exclusive(), lock.exclusive(), lock.shared():
        pass
    # GIVEN it held shared, WHEN the holder asks for exclusive, THEN it is told, not left waiting for itself
    with lock.shared(), pytest.raises(RuntimeError, match="shared holder"), lock.exclusive():
        pass
    # AND the lock is free again afterwards
    with lock.exclusive():
        pass


def test_a_waiting_writer_goes_before_readers_that_arrive_after_it() -> None:
    # GIVEN a reader holding the lock and a writer waiting
    lock = SharedExclusiveLock()
    order: list[str] = []
    reader_in, release = threading.Event(), threading.Event()

    def first_reader() -> None:
        with lock.shared():
            reader_in.set()
            release.wait(DEADLOCK_GUARD_S)

    def writer() -> None:
        with lock.exclusive():
            order.append("writer")

    def late_reader() -> None:
        with lock.shared():
            order.append("late reader")

    with ThreadPoolExecutor(3) as pool:
        futures: list[Any] = [pool.submit(first_reader)]
        assert reader_in.wait(DEADLOCK_GUARD_S)
        futures.append(pool.submit(writer))
        _wait_until(lambda: lock._writers_waiting == 1)
        # WHEN another reader arrives, then the first one leaves
        futures.append(pool.submit(late_reader))
        release.set()
        for future in futures:
            future.result()
    # THEN the writer went first (readers never starve it)
    assert order == ["writer", "late reader"]
