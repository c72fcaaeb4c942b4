"""The embedded AWS of `sluice local`: a moto server in its own process.

Every request to the local endpoint makes several AWS calls (the alias, the reserved concurrency, the metrics)
and the predict environments make their own; a moto server in the endpoint's process would serve them all under
that process's one interpreter lock, so throughput would stop at one core however many environments run.
In its own process it serves them beside the endpoint. It speaks the same API as the in-process moto, with
CloudWatch's percentile statistics taught (``install_percentiles``) and SageMaker's job names unique
(``install_sagemaker_jobs``; the played status of a job is in its state change, DescribeTrainingJob on the server
keeps answering InProgress).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time

START_TIMEOUT_S = 60.0


class AwsServerError(RuntimeError):
    """The moto server did not start."""


class AwsServer:
    """``start()`` a moto server on 127.0.0.1:``port`` in a child process; ``stop()`` ends it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._process = multiprocessing.get_context("spawn").Process(
            target=serve, args=(port, os.getpid()), name="sluice-aws", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AwsServer:
        self._process.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if not self._process.is_alive():
                raise AwsServerError(f"the embedded AWS exited with code {self._process.exitcode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AwsServerError(f"the embedded AWS did not listen on port {self.port} within {START_TIMEOUT_S:g} s")

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)


def serve(port: int, parent: int) -> None:
    """The child's work: moto's threaded server, percentiles and composite alarms taught, quiet, until terminated
    or orphaned (a killed `sluice local` must not leave its port taken)."""
    from moto.server import ThreadedMotoServer

    from sluice.local.alarm_state import install_composite_alarms
    from sluice.local.cloudwatch import install_percentiles
    from sluice.local.sagemaker_jobs import install_sagemaker_jobs

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on `sluice local` stops it, which stops this process
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    install_percentiles()
    install_composite_alarms()  # the stack's health composites (moto lacks PutCompositeAlarm)
    install_sagemaker_jobs()  # a new job InProgress, a name used twice refused (the runtime plays the jobs)
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    while os.getppid() == parent:
        time.sleep(1)
