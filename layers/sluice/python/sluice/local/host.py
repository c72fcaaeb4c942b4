"""Load and call Lambda handlers in-process, each with the environment its function has."""

from __future__ import annotations

import importlib.util
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from sluice.wiring import FUNCTIONS


class FunctionsNotFoundError(FileNotFoundError):
    """The functions/ folder could not be located."""


def find_functions_dir(start: Path | None = None) -> Path:
    """functions/ from $SLUICE_FUNCTIONS_DIR, the working directory upwards, or beside the library."""
    explicit = os.environ.get("SLUICE_FUNCTIONS_DIR")
    candidates = [Path(explicit)] if explicit else []
    here = (start or Path.cwd()).resolve()
    candidates += [parent / "functions" for parent in (here, *here.parents)]
    candidates.append(Path(__file__).resolve().parents[5] / "functions")
    for candidate in candidates:
        if (candidate / "validate_dataset" / "app.py").is_file():
            return candidate
    raise FunctionsNotFoundError("cannot find functions/: run from the sluice project or set SLUICE_FUNCTIONS_DIR")


class LocalLambdaContext:
    """The parts of the Lambda context object handlers and Powertools read."""

    def __init__(self, function_name: str, memory_mb: int, timeout_s: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class SharedExclusiveLock:
    """Many holders in shared mode, or one in exclusive mode (a readers-writer lock, writers first).

    A thread may re-enter the mode it holds, and take shared while it holds exclusive; asking for exclusive
    while holding only shared would wait for itself, so it raises.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._shared = 0
        self._writer: int | None = None
        self._writer_depth = 0
        self._writers_waiting = 0
        self._held = threading.local()

    @contextmanager
    def shared(self) -> Iterator[None]:
        me = threading.get_ident()
        depth = getattr(self._held, "shared", 0)
        with self._condition:
            if self._writer != me and depth == 0:
                while self._writer is not None or self._writers_waiting:
                    self._condition.wait()
            self._shared += 1
        self._held.shared = depth + 1
        try:
            yield
        finally:
            self._held.shared = depth
            with self._condition:
                self._shared -= 1
                self._condition.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._condition:
            if self._writer != me:
                if getattr(self._held, "shared", 0):
                    raise RuntimeError("a shared holder cannot take the lock exclusively (it would wait for itself)")
                self._writers_waiting += 1
                try:
                    while self._writer is not None or self._shared:
                        self._condition.wait()
                finally:
                    self._writers_waiting -= 1
                self._writer = me
            self._writer_depth += 1
        try:
            yield
        finally:
            with self._condition:
                self._writer_depth -= 1
                if self._writer_depth == 0:
                    self._writer = None
                self._condition.notify_all()


class FunctionHost:
    """One loaded module per (function, environment): a warm container.

    Invocations that need no environment overrides run concurrently (as many containers would); one with overrides
    changes the process-wide ``os.environ``, so it runs alone. Loading a module is serialised.
    """

    def __init__(self, functions_dir: Path) -> None:
        self._dir = functions_dir
        self._modules: dict[tuple[str, tuple[tuple[str, str], ...]], ModuleType] = {}
        self._environ = SharedExclusiveLock()
        self._loading = threading.Lock()
        self._serial = 0

    def invoke(self, function: str, event: dict[str, Any], *, env: Mapping[str, str] | None = None,
               function_name: str | None = None, init_env: Mapping[str, str] | None = None) -> Any:
        """Run the handler; ``env`` is set while it runs (alone), ``init_env`` only while its container starts
        (variables the function reads at init, such as its dead-letter queue: the invocation stays concurrent)."""
        spec = FUNCTIONS[function]
        overrides = dict(env or {})
        with self._environment(overrides):
            module = self._module(function, overrides, dict(init_env or {}))
            context = LocalLambdaContext(function_name or function, spec.memory_mb, spec.timeout_s)
            return module.lambda_handler(event, context)

    def prepare(self, function: str, *, env: Mapping[str, str] | None = None) -> None:
        """Initialise the function's container now (its init errors raise here), so ``invoke`` times the handler."""
        overrides = dict(env or {})
        with self._environment(overrides):
            self._module(function, overrides)

    @contextmanager
    def _environment(self, overrides: dict[str, str]) -> Iterator[None]:
        if not overrides:
            with self._environ.shared():
                yield
            return
        with self._environ.exclusive(), environment(overrides):
            yield

    def _module(self, function: str, env: dict[str, str], init_env: dict[str, str] | None = None) -> ModuleType:
        key = (function, tuple(sorted({**env, **(init_env or {})}.items())))
        with self._loading:
            module = self._modules.get(key)
            if module is None:
                path = self._dir / function / "app.py"
                self._serial += 1
                spec = importlib.util.spec_from_file_location(f"sluice_local_{function}_{self._serial}", path)
                if spec is None or spec.loader is None:
                    raise FunctionsNotFoundError(f"cannot load {path}")
                module = importlib.util.module_from_spec(spec)
                with environment(init_env or {}):  # read at init only; loading is serialised
                    spec.loader.exec_module(module)
                self._modules[key] = module
        return module


@contextmanager
def environment(overrides: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``overrides`` while the block runs, restored after (unset keys unset again)."""
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
