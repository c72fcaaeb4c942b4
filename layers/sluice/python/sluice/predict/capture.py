"""Capture sampled predictions for monitoring, without slowing the response.

A sampled request becomes one JSON record per instance (request id, instance index, model version,
timestamp, features as the model read them plus the id and timestamp columns sent, prediction, probabilities,
and the contract violations of a request answered with ``on_violation = "flag"``). Records are buffered per
container and shipped as one ``PutRecordBatch`` to the model's Firehose delivery stream every ``batch``
records or ``max_age_s`` seconds, whichever comes first; Firehose converts them to Parquet under
``captures/<model>/date=YYYY-MM-DD/``. Recording and flushing run after the response (the predict service defers
them, ``sluice.predict.after``); the Firehose client is created on the first flush, and what is still buffered
is flushed when Lambda shuts the environment down (SIGTERM). Capture is best effort: a failed batch is logged and
dropped, never turned into a failed prediction; only a crash loses the unsent buffer.
Slim: standard library and boto3 only.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from sluice.lazy import LazyClient
from sluice.naming import capture_field

ENV_CAPTURE_STREAM = "SLUICE_CAPTURE_STREAM"
ENV_CAPTURE_RATE = "SLUICE_CAPTURE_RATE"
ENV_CAPTURE_BATCH = "SLUICE_CAPTURE_BATCH"
DEFAULT_BATCH = 100
DEFAULT_MAX_AGE_S = 60.0
PUT_RECORD_BATCH_LIMIT = 500  # records per PutRecordBatch call
CAPTURE_FIELDS = ("request_id", "instance", "model_version", "captured_at", "prediction", "probabilities",
                  "features", "violations")

log = logging.getLogger(__name__)


class CaptureSink(Protocol):
    """Where batches of encoded records go; returns how many were not accepted."""

    def send(self, records: list[bytes]) -> int: ...


class FirehoseSink:
    """PutRecordBatch to one delivery stream (failed entries are retried once)."""

    def __init__(self, firehose_client: Any, stream_name: str) -> None:
        self._client = firehose_client
        self.stream_name = stream_name

    def send(self, records: list[bytes]) -> int:
        failed = 0
        for start in range(0, len(records), PUT_RECORD_BATCH_LIMIT):
            chunk = records[start : start + PUT_RECORD_BATCH_LIMIT]
            for _attempt in range(2):
                response = self._client.put_record_batch(
                    DeliveryStreamName=self.stream_name, Records=[{"Data": record} for record in chunk])
                if not response.get("FailedPutCount"):
                    break
                results = response.get("RequestResponses", [])
                chunk = [record for record, result in zip(chunk, results, strict=False) if result.get("ErrorCode")]
            else:
                failed += len(chunk)
        return failed


class CaptureBuffer:
    """Sample requests at ``rate``, buffer their records, flush in batches."""

    def __init__(self, sink: CaptureSink, *, rate: float, batch: int = DEFAULT_BATCH,
                 max_age_s: float = DEFAULT_MAX_AGE_S, draw: Callable[[], float] = random.random,
                 clock: Callable[[], float] = time.time) -> None:
        self._sink = sink
        self.rate = rate
        self._batch = max(1, batch)
        self._max_age_s = max_age_s
        self._draw = draw
        self._clock = clock
        self._pending: list[bytes] = []
        self._oldest = 0.0
        self.sent = 0
        self.dropped = 0

    def sampled(self) -> bool:
        return self.rate > 0 and (self.rate >= 1 or self._draw() < self.rate)

    def record(self, *, request_id: str, model_version: str, instances: Sequence[Mapping[str, Any]],
               outputs: Sequence[Any], probabilities: Sequence[Mapping[str, float]] | None,
               kinds: Mapping[str, str], violations: Sequence[Mapping[str, Any]] = ()) -> None:
        """Buffer one record per instance; ``kinds`` (column → "float" | "string") types the features;
        ``violations`` (each with its ``instance`` index) go to their instance's record as a JSON list."""
        by_instance: dict[int, list[Mapping[str, Any]]] = {}
        for violation in violations:
            by_instance.setdefault(int(violation["instance"]), []).append(violation)
        now = self._clock()
        if not self._pending:
            self._oldest = now
        captured_at = int(now * 1000)
        for index, (instance, output) in enumerate(zip(instances, outputs, strict=True)):
            document = {
                "request_id": request_id, "instance": index, "model_version": model_version,
                "captured_at": captured_at, "prediction": output,
                "probabilities": None if probabilities is None else json.dumps(probabilities[index]),
                "features": {capture_field(name): _typed(instance.get(name), kind) for name, kind in kinds.items()},
                "violations": json.dumps(by_instance[index]) if index in by_instance else None,
            }
            self._pending.append(json.dumps(document, separators=(",", ":"), allow_nan=False).encode() + b"\n")
        if len(self._pending) >= self._batch or now - self._oldest >= self._max_age_s:
            self.flush()

    def flush(self) -> None:
        """Ship the buffer now (called on size or age, and by the local runtime)."""
        if not self._pending:
            return
        records, self._pending = self._pending, []
        try:
            failed = self._sink.send(records)
        except Exception as error:  # capture must never fail a prediction
            log.warning("capture batch dropped: %s", error)
            failed = len(records)
        self.sent += len(records) - failed
        self.dropped += failed


def _typed(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    if kind == "float":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return number if number == number and abs(number) != float("inf") else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def buffer_from_env(environ: Mapping[str, str], firehose_client_factory: Callable[[], Any]) -> CaptureBuffer | None:
    """The capture buffer of a predict function, or None when capture is off (no stream or rate 0); the client
    is made on the first flush."""
    stream = environ.get(ENV_CAPTURE_STREAM)
    rate = float(environ.get(ENV_CAPTURE_RATE, "0") or 0)
    if not stream or rate <= 0:
        return None
    batch = int(environ.get(ENV_CAPTURE_BATCH, DEFAULT_BATCH))
    return CaptureBuffer(FirehoseSink(LazyClient(firehose_client_factory), stream), rate=rate, batch=batch)
