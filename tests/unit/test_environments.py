"""The local endpoint's execution environments: one per concurrent request, a local cap that queues, and Lambda's
throttle at the reserved concurrency (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from sluice.local.environments import EnvironmentKey, EnvironmentPool, Invocation, ThrottledError, environment_key

A = environment_key("predict", "sluice-predict-a", {"SLUICE_MODEL_VERSION": "1"})
B = environment_key("predict", "sluice-predict-b", {"SLUICE_MODEL_VERSION": "1"})


class FakeEnvironment:
    def __init__(self, key: EnvironmentKey) -> None:
        self.key = key
        self.closed = False
        self.alive = True

    def invoke(self, event: dict[str, Any], *, now: float, function_name: str) -> Invocation:
        return Invocation({"statusCode": 200}, None, "", 1.0)

    def close(self) -> None:
        self.closed = True


class Starter:
    def __init__(self) -> None:
        self.started: list[FakeEnvironment] = []

    def __call__(self, key: EnvironmentKey) -> FakeEnvironment:
        environment = FakeEnvironment(key)
        self.started.append(environment)
        return environment


def test_concurrent_requests_get_one_environment_each_and_a_later_request_reuses_one() -> None:
    # GIVEN a pool that may run 4 environments
    starter = Starter()
    pool = EnvironmentPool(starter, capacity=4)
    # WHEN three requests are in flight at once
    with pool.lease(A) as first, pool.lease(A) as second, pool.lease(A) as third:
        # THEN each has its own environment
        assert len({id(first), id(second), id(third)}) == 3
    # AND a request after them reuses an idle one instead of starting a fourth
    with pool.lease(A) as fourth:
        assert fourth in starter.started
    assert len(starter.started) == 3 and pool.size == 3


def test_beyond_the_reserved_concurrency_a_request_is_throttled_at_once() -> None:
    # GIVEN a function with reserved concurrency 1 and one request in flight
    pool = EnvironmentPool(Starter(), capacity=4)
    with pool.lease(A, reserved=1):
        # WHEN another request to the same function arrives, THEN it is throttled (Lambda's 429)
        with pytest.raises(ThrottledError, match="Rate Exceeded"), pool.lease(A, reserved=1):
            pass
        # AND another function is not affected
        with pool.lease(B, reserved=1):
            pass
    # AND once the first request is answered, the function serves again
    with pool.lease(A, reserved=1):
        pass


def test_reserved_concurrency_zero_throttles_every_request() -> None:
    pool = EnvironmentPool(Starter(), capacity=4)
    with pytest.raises(ThrottledError), pool.lease(A, reserved=0):
        pass


def test_at_the_local_capacity_a_request_waits_for_an_environment_instead_of_failing() -> None:
    # GIVEN a pool capped at one environment, busy with a request
    starter = Starter()
    pool = EnvironmentPool(starter, capacity=1)
    got: list[FakeEnvironment] = []
    waiting = threading.Event()
    with pool.lease(A) as busy:
        # WHEN a second request arrives (in another thread) while the first is in flight
        def second() -> None:
            waiting.set()
            with pool.lease(A) as environment:
                got.append(environment)  # type: ignore[arg-type]

        thread = threading.Thread(target=second)
        thread.start()
        waiting.wait()
    thread.join()
    # THEN it was served by the same environment once that came free: no second start, no error
    assert got == [busy] and len(starter.started) == 1


def test_at_the_capacity_an_idle_environment_of_another_version_makes_room() -> None:
    # GIVEN a pool capped at one environment, idle, of version A
    starter = Starter()
    pool = EnvironmentPool(starter, capacity=1)
    with pool.lease(A):
        pass
    # WHEN version B is requested
    with pool.lease(B) as environment:
        # THEN A's environment is stopped and B's started
        assert environment.key == B  # type: ignore[attr-defined]
    assert starter.started[0].closed and not starter.started[1].closed and pool.size == 1


def test_an_environment_that_died_is_never_reused() -> None:
    # GIVEN an environment that crashed during its request
    starter = Starter()
    pool = EnvironmentPool(starter, capacity=2)
    with pool.lease(A) as environment:
        environment.alive = False  # type: ignore[misc]
    # WHEN the next request arrives, THEN a new environment serves it and the dead one is closed
    with pool.lease(A) as following:
        assert following is not environment
    assert starter.started[0].closed and len(starter.started) == 2


def test_a_failed_start_frees_its_place() -> None:
    # GIVEN a pool whose environments fail to start (an init error)
    def broken(key: EnvironmentKey) -> FakeEnvironment:
        raise RuntimeError("init failed")

    pool = EnvironmentPool(broken, capacity=1)
    # WHEN two requests arrive one after the other, THEN each sees the init error; neither waits forever
    for _ in range(2):
        with pytest.raises(RuntimeError, match="init failed"), pool.lease(A):
            pass
    assert pool.size == 0


def test_closing_the_pool_stops_idle_environments() -> None:
    starter = Starter()
    pool = EnvironmentPool(starter, capacity=2)
    with pool.lease(A), pool.lease(A):
        pass
    pool.close()
    assert all(environment.closed for environment in starter.started)


HANDLER = '''
import json, os, threading
from sluice import clock

def lambda_handler(event, context):
    if event.get("crash"):
        os._exit(3)
    if event.get("hang"):
        threading.Event().wait()
    if event.get("fail"):
        raise ValueError("bad input")
    print(json.dumps({"_aws": {"CloudWatchMetrics": []}, "n": 1}))
    print("an ordinary log line")
    return {"now": clock.system_clock(), "mark": os.environ.get("MARK"), "function": context.function_name}
'''


@pytest.fixture
def process_environment(tmp_path: Any) -> Any:
    from sluice.local.environments import ProcessEnvironment

    (tmp_path / "predict").mkdir()
    (tmp_path / "predict" / "app.py").write_text(HANDLER)
    environment = ProcessEnvironment("predict", {"MARK": "from-the-function-config"}, functions_dir=tmp_path,
                                     timeout_s=5)
    yield environment
    environment.close()


def test_a_worker_process_runs_the_handler_with_its_environment_the_runtimes_clock_and_its_stdout(
        process_environment: Any) -> None:
    # GIVEN a worker environment, and a runtime whose clock was advanced a day
    a_day_ahead = __import__("time").time() + 86400
    # WHEN a request runs in it
    invocation = process_environment.invoke({}, now=a_day_ahead, function_name="sluice-predict-m")
    # THEN the handler saw the function's variables and the runtime's time, and its stdout comes back whole
    assert invocation.failure is None
    assert invocation.response["mark"] == "from-the-function-config"
    assert invocation.response["function"] == "sluice-predict-m"
    assert invocation.response["now"] >= a_day_ahead
    assert invocation.output.splitlines() == ['{"_aws": {"CloudWatchMetrics": []}, "n": 1}', "an ordinary log line"]
    # AND the next request's output is its own
    assert process_environment.invoke({}, now=a_day_ahead, function_name="f").output.count('"_aws"') == 1


def test_a_failing_handler_is_a_failure_and_the_environment_serves_on(process_environment: Any) -> None:
    invocation = process_environment.invoke({"fail": True}, now=0.0, function_name="f")
    assert invocation.failure == "ValueError: bad input" and invocation.response is None
    assert process_environment.alive
    assert process_environment.invoke({}, now=0.0, function_name="f").failure is None


def test_a_crashed_or_hung_environment_is_a_failure_and_is_never_used_again(tmp_path: Any) -> None:
    from sluice.local.environments import ProcessEnvironment

    (tmp_path / "predict").mkdir()
    (tmp_path / "predict" / "app.py").write_text(HANDLER)
    for event, failure in (({"crash": True}, "Runtime.ExitError"), ({"hang": True}, "Sandbox.Timedout")):
        environment = ProcessEnvironment("predict", {}, functions_dir=tmp_path, timeout_s=1 if "hang" in event else 30)
        invocation = environment.invoke(event, now=0.0, function_name="f")
        assert invocation.failure is not None and invocation.failure.startswith(failure), invocation.failure
        assert not environment.alive
        environment.close()


def test_an_init_error_stops_the_environment_from_starting(tmp_path: Any) -> None:
    from sluice.local.environments import ProcessEnvironment

    (tmp_path / "predict").mkdir()
    (tmp_path / "predict" / "app.py").write_text("raise ImportError('no model')\n")
    with pytest.raises(RuntimeError, match="failed to start: ImportError: no model"):
        ProcessEnvironment("predict", {}, functions_dir=tmp_path, timeout_s=30)
