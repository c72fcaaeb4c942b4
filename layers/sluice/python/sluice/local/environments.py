"""Execution environments of the local endpoint: one per concurrent request, as Lambda scales.

Lambda runs each concurrent request of a function version in its own execution environment (a sandbox that
loaded the handler once), starts a new one when every existing one is busy, and refuses a synchronous request
beyond the function's concurrency limit with 429 ``TooManyRequestsException``
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html). The local endpoint does the same:

- ``EnvironmentPool`` keeps environments per key (function and its environment variables, i.e. one published
  version), leases an idle one per request and starts another when all are busy. Beyond the function's reserved
  concurrency a request is ``ThrottledError`` (the caller answers 429, as Lambda does); beyond the machine's
  ``capacity`` (a laptop is not a Lambda fleet) it waits for an environment to come free — latency, not an error.
- ``ProcessEnvironment``: a worker process that talks to the moto server, the runtime's stand-in for a sandbox.
  It sees the runtime's clock (the parent's time travels with each request) and returns the handler's stdout,
  from which the runtime reads the EMF metrics.
- ``InProcessEnvironment``: the handler in this process (in-process moto cannot be reached from another process);
  one at a time, since stdout is captured by swapping the process's ``sys.stdout``.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from sluice import clock as sluice_clock
from sluice.local.host import FunctionHost

EnvironmentKey = tuple[str, str, tuple[tuple[str, str], ...]]
"""(function, function name, its environment variables): what makes two environments interchangeable."""

START_TIMEOUT_S = 120.0
"""How long a worker may take to start and load the handler (a process start and its imports, on a busy laptop:
not Lambda's 10 s init limit, which measures a warm fleet)."""
_EXITED = "the environment's process exited"
_IN_PROCESS = threading.Lock()  # sys.stdout is process-global: one in-process invocation captures it at a time


@dataclass(frozen=True)
class Invocation:
    """What one request to an environment produced."""

    response: Any
    failure: str | None  # "TypeName: message" when the function failed (Lambda answers 502)
    output: str  # the handler's stdout (its log lines and EMF documents)
    duration_ms: float  # the handler's time, init excluded (Lambda's Duration)


class Environment(Protocol):
    def invoke(self, event: dict[str, Any], *, now: float, function_name: str) -> Invocation:
        """Run the handler once on ``event`` at the runtime's time ``now``."""
        ...

    @property
    def alive(self) -> bool:
        """False once the environment cannot serve again (crashed, timed out): the pool drops it."""
        ...

    def close(self) -> None: ...


class ThrottledError(Exception):
    """The function is at its concurrency limit: Lambda refuses the request (429 TooManyRequestsException)."""

    def __init__(self, function_name: str, limit: int) -> None:
        super().__init__(f"Rate Exceeded: {function_name} is at its reserved concurrency of {limit}")
        self.function_name = function_name
        self.limit = limit


def environment_key(function: str, function_name: str, env: Mapping[str, str]) -> EnvironmentKey:
    return function, function_name, tuple(sorted(env.items()))


class InProcessEnvironment:
    """The handler loaded in this process by the runtime's ``FunctionHost`` (its warm container)."""

    def __init__(self, host: FunctionHost, function: str, env: Mapping[str, str]) -> None:
        self._host = host
        self._function = function
        self._env = dict(env)
        with _IN_PROCESS, contextlib.redirect_stdout(io.StringIO()):
            host.prepare(function, env=self._env)  # init (the model load) is not part of Duration

    @property
    def alive(self) -> bool:
        return True

    def invoke(self, event: dict[str, Any], *, now: float, function_name: str) -> Invocation:
        output = io.StringIO()
        with _IN_PROCESS, contextlib.redirect_stdout(output):
            started = time.perf_counter()
            try:
                response = self._host.invoke(self._function, event, env=self._env, function_name=function_name)
            except Exception as error:
                return Invocation(None, _describe(error), output.getvalue(), _since(started))
        return Invocation(response, None, output.getvalue(), _since(started))

    def close(self) -> None:
        return


class ProcessEnvironment:
    """A worker process with the function's environment (reaching AWS through ``AWS_ENDPOINT_URL``)."""

    def __init__(self, function: str, env: Mapping[str, str], *, functions_dir: Path, timeout_s: float) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a threaded server
        self._connection, child = context.Pipe()
        self._timeout_s = timeout_s
        self._process = context.Process(target=serve, args=(child, function, dict(env), str(functions_dir)),
                                        name=f"sluice-env-{function}", daemon=True)
        self._process.start()
        child.close()
        self._alive = True
        ready = self._receive(START_TIMEOUT_S)
        if not isinstance(ready, tuple) or ready[0] != "ready":
            self.close()
            reason = ready[1] if isinstance(ready, tuple) else ready
            raise RuntimeError(f"the {function} environment failed to start: {reason}")

    @property
    def alive(self) -> bool:
        return self._alive and self._process.is_alive()

    def invoke(self, event: dict[str, Any], *, now: float, function_name: str) -> Invocation:
        started = time.perf_counter()
        try:
            self._connection.send((event, now, function_name))
        except (OSError, EOFError):
            self.close()
            return Invocation(None, f"Runtime.ExitError: {_EXITED}", "", _since(started))
        answer = self._receive(self._timeout_s)
        if not isinstance(answer, tuple):
            self.close()
            return Invocation(None, answer, "", _since(started))
        _, response, failure, output, duration_ms = answer
        return Invocation(response, failure, output, duration_ms)

    def _receive(self, timeout_s: float) -> tuple[Any, ...] | str:
        """The worker's next message, or why there is none (it exited, or did not answer in time)."""
        try:
            if self._connection.poll(timeout_s):
                message: tuple[Any, ...] = self._connection.recv()
                return message
        except (OSError, EOFError):
            return f"Runtime.ExitError: {_EXITED}"
        return f"Sandbox.Timedout: Task timed out after {timeout_s:g} seconds"

    def close(self) -> None:
        self._alive = False
        with contextlib.suppress(OSError):
            self._connection.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=5)


def serve(connection: Connection, function: str, env: dict[str, str], functions_dir: str) -> None:
    """The worker's loop: load the handler once, then answer ``(event, now, function_name)`` until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on `sluice local` stops the runtime, which stops this
    os.environ.clear()
    os.environ.update(env)
    captured = _CapturedStdout()
    sys.stdout = captured  # set before the handler loads: its loggers write where invocations are captured
    host = FunctionHost(Path(functions_dir))
    try:
        host.prepare(function)
    except Exception as error:  # an init error: the runtime reports it and never uses this environment
        connection.send(("init-error", _describe(error)))
        return
    captured.take()
    connection.send(("ready", None))
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        event, now, function_name = request
        _follow_clock(now)
        started = time.perf_counter()
        try:
            response, failure = host.invoke(function, event, function_name=function_name), None
        except Exception as error:
            response, failure = None, _describe(error)
        duration_ms = _since(started)
        connection.send(("done", response, failure, captured.take(), duration_ms))


def _follow_clock(now: float) -> None:
    """This process's ``sluice.clock`` at the runtime's time (which tests and bake checks may have advanced)."""
    sluice_clock.reset()
    skew = now - sluice_clock.system_clock()
    if skew > 0:
        sluice_clock.advance(skew)


class _CapturedStdout(io.StringIO):
    """The worker's stdout: collected, then taken after each invocation."""

    def take(self) -> str:
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text


@dataclass
class _Slots:
    idle: list[Environment] = field(default_factory=list)
    busy: int = 0
    last_used: float = 0.0

    @property
    def size(self) -> int:
        return len(self.idle) + self.busy


class EnvironmentPool:
    """Environments per key, one per concurrent request; at most ``capacity`` of them, ``per_key`` per key."""

    def __init__(self, start: Callable[[EnvironmentKey], Environment], *, capacity: int,
                 per_key: int | None = None) -> None:
        if capacity < 1:
            raise ValueError("an environment pool needs a capacity of at least 1")
        self._start = start
        self._capacity = capacity
        self._per_key = per_key or capacity
        self._slots: dict[EnvironmentKey, _Slots] = {}
        self._in_flight: dict[str, int] = {}
        self._changed = threading.Condition()
        self._closed = False

    @property
    def size(self) -> int:
        """Environments alive now (idle or busy)."""
        with self._changed:
            return sum(slots.size for slots in self._slots.values())

    @contextlib.contextmanager
    def lease(self, key: EnvironmentKey, *, reserved: int | None = None) -> Iterator[Environment]:
        """An environment of ``key`` for one request: idle, newly started, or the next to come free.

        ``reserved`` is the function's concurrency limit: a request beyond it raises ``ThrottledError`` at once.
        """
        function_name = key[1]
        with self._changed:
            in_flight = self._in_flight.get(function_name, 0)
            if reserved is not None and in_flight >= reserved:
                raise ThrottledError(function_name, reserved)
            self._in_flight[function_name] = in_flight + 1
        try:
            environment = self._acquire(key)
            try:
                yield environment
            finally:
                self._release(key, environment)
        finally:
            with self._changed:
                self._in_flight[function_name] -= 1

    def _acquire(self, key: EnvironmentKey) -> Environment:
        with self._changed:
            while True:
                if self._closed:
                    raise RuntimeError("the environment pool is closed")
                slots = self._slots.setdefault(key, _Slots())
                if slots.idle:
                    slots.busy += 1
                    return slots.idle.pop()
                if slots.size < self._per_key and self._make_room():
                    slots.busy += 1  # reserved for the environment being started
                    break
                self._changed.wait()
        try:
            return self._start(key)  # outside the lock: a start takes seconds, other keys keep being served
        except BaseException:
            with self._changed:
                slots.busy -= 1
                self._changed.notify_all()
            raise

    def _make_room(self) -> bool:
        """Whether one more environment may start, closing the least recently used idle one if need be."""
        if sum(slots.size for slots in self._slots.values()) < self._capacity:
            return True
        candidates = [(slots.last_used, key) for key, slots in self._slots.items() if slots.idle]
        if not candidates:
            return False
        _, key = min(candidates)
        self._slots[key].idle.pop(0).close()
        return True

    def _release(self, key: EnvironmentKey, environment: Environment) -> None:
        with self._changed:
            slots = self._slots[key]
            slots.busy -= 1
            slots.last_used = time.monotonic()
            if environment.alive and not self._closed:
                slots.idle.append(environment)
            else:
                environment.close()
            self._changed.notify_all()

    def close(self) -> None:
        """Stop every idle environment now (busy ones are stopped when their request returns)."""
        with self._changed:
            self._closed = True
            idle = [environment for slots in self._slots.values() for environment in slots.idle]
            for slots in self._slots.values():
                slots.idle.clear()
            self._changed.notify_all()
        for environment in idle:
            environment.close()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
