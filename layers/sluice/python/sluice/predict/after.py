"""Work that must not delay the answer (shadow scoring, release telemetry, capture): queued during a request and
run after the response.

Who runs it depends on where the function runs:

- **On Lambda** (``AWS_LAMBDA_RUNTIME_API`` set) an internal extension (``sluice.predict.extension``) does. Lambda
  sends each invocation to the runtime and to every registered extension; the runtime posts the handler's
  response at once, and Lambda freezes the execution environment only after the runtime *and* every extension
  have asked for the next event. The extension thread waits for the handler to finish, runs the queued work and
  only then asks for the next event, so nothing queued is ever frozen half-done, and the next invocation starts
  with an empty queue. The time is billed and reported as ``PostRuntimeExtensionsDuration``, not in the function's
  ``Duration`` that the latency alarm and the bake checks read.
- **Anywhere else** (the local runtime, tests) the queue is drained when the handler's invocation block ends:
  deterministic, nothing left behind.

At shutdown Lambda sends the runtime SIGTERM (a function with a registered extension gets it, with up to 500 ms)
and :meth:`AfterResponse.shutdown` runs what is still queued, then the shutdown hooks (the capture buffer's final
flush). A crash (timeout, out of memory) still loses what was not yet run.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

Task = Callable[[], None]
log = logging.getLogger(__name__)


class AfterResponse:
    """A queue of post-response tasks, and the hand-over at the end of each invocation.

    ``handover`` is told when an invocation's handler has finished (the Lambda extension's cue); without one, the
    queue is drained right there.
    """

    def __init__(self, handover: Callable[[], None] | None = None) -> None:
        self._tasks: deque[Task] = deque()
        self._shutdown_hooks: list[Task] = []
        self._handover = handover
        self._lock = threading.RLock()  # re-entered by a SIGTERM arriving while the main thread drains
        self.ran = 0
        self.failed = 0

    def set_handover(self, handover: Callable[[], None] | None) -> None:
        self._handover = handover

    def defer(self, task: Task) -> None:
        """Run ``task`` after the response (never raises into the request)."""
        self._tasks.append(task)

    def on_shutdown(self, hook: Task) -> None:
        """Run ``hook`` once when the execution environment shuts down, after the queued tasks."""
        self._shutdown_hooks.append(hook)

    @contextmanager
    def invocation(self) -> Iterator[None]:
        """Wrap one handler invocation: when it ends (answer or exception), its queued work is handed over."""
        try:
            yield
        finally:
            if self._handover is None:
                self.run_pending()
            else:
                self._handover()

    def run_pending(self) -> int:
        """Run every queued task in order; a failing task is logged and the rest still run. Returns how many ran."""
        ran = 0
        with self._lock:  # the drainer and a shutdown never run the same task twice
            while self._tasks:
                task = self._tasks.popleft()
                ran += 1
                try:
                    task()
                except Exception:
                    self.failed += 1
                    log.exception("post-response task failed")
        self.ran += ran
        return ran

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def shutdown(self) -> None:
        """What is still queued, then the shutdown hooks (each once)."""
        self.run_pending()
        hooks, self._shutdown_hooks = self._shutdown_hooks, []
        for hook in hooks:
            try:
                hook()
            except Exception:
                log.exception("shutdown hook failed")

    def install_sigterm(self) -> None:
        """On SIGTERM (Lambda's shutdown), run :meth:`shutdown`, then exit as the signal asks."""
        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            self.shutdown()
            if callable(previous):
                previous(signum, frame)
            sys.exit(0)

        signal.signal(signal.SIGTERM, on_sigterm)
