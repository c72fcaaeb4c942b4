"""Progress reports reach the listeners of the thread that made them (two handlers in one process at once)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sluice import progress

DEADLOCK_GUARD_S = 120


def test_each_thread_hears_only_its_own_reports() -> None:
    # GIVEN two threads each listening, both inside their block at the same time
    both_listening = threading.Barrier(2, timeout=DEADLOCK_GUARD_S)

    def step(name: str) -> list[tuple[str, dict[str, Any]]]:
        heard: list[tuple[str, dict[str, Any]]] = []
        with progress.listening(lambda kind, detail: heard.append((kind, detail))):
            both_listening.wait()
            # WHEN each reports its own trial
            progress.report("trial", {"step": name})
            both_listening.wait()
        return heard

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(step, ["first", "second"])
    # THEN each heard its own report and not the other's; outside any block nobody hears anything
    assert first == [("trial", {"step": "first"})]
    assert second == [("trial", {"step": "second"})]
    progress.report("trial", {"step": "unheard"})
    assert first == [("trial", {"step": "first"})]


def test_nested_listeners_both_hear_and_leave_in_order() -> None:
    # GIVEN a listener inside another
    outer: list[str] = []
    inner: list[str] = []
    with progress.listening(lambda kind, _: outer.append(kind)):
        with progress.listening(lambda kind, _: inner.append(kind)):
            # WHEN a report is made inside both, then inside the outer one only
            progress.report("a", {})
        progress.report("b", {})
    # THEN the inner heard the first, the outer both
    assert inner == ["a"] and outer == ["a", "b"]
