"""Capture in the predict path: sampling, batching, typing, failure isolation, request ids."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from sluice.monitoring.captures import _field
from sluice.naming import capture_field
from sluice.predict import CaptureBuffer, FirehoseSink, PredictService, buffer_from_env
from sluice.predict.service import _request_id


class ListSink:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[bytes]] = []
        self.fail = fail

    def send(self, records: list[bytes]) -> int:
        if self.fail:
            raise ConnectionError("firehose unreachable")
        self.batches.append(records)
        return 0


def _record(buffer: CaptureBuffer, request_id: str, rows: int = 1) -> None:
    buffer.record(request_id=request_id, model_version="3", instances=[{"a": "1.5", "b": True}] * rows,
                  outputs=["yes"] * rows, probabilities=[{"yes": 0.9, "no": 0.1}] * rows,
                  kinds={"a": "float", "b": "string", "c": "float"})


def test_records_are_typed_batched_and_flushed_by_count() -> None:
    # GIVEN a buffer that flushes every 3 records
    sink = ListSink()
    buffer = CaptureBuffer(sink, rate=1.0, batch=3, clock=lambda: 1000.0)
    # WHEN two requests of two instances are recorded
    _record(buffer, "r1", rows=2)
    assert sink.batches == []
    _record(buffer, "r2", rows=2)
    # THEN one batch of 4 records went out, each a typed JSON line
    (batch,) = sink.batches
    first = json.loads(batch[0])
    assert len(batch) == 4 and batch[0].endswith(b"\n")
    assert first == {"request_id": "r1", "instance": 0, "model_version": "3", "captured_at": 1_000_000,
                     "prediction": "yes", "probabilities": json.dumps({"yes": 0.9, "no": 0.1}),
                     "features": {"a": 1.5, "b": "true", "c": None}, "violations": None}
    assert json.loads(batch[3])["instance"] == 1 and buffer.sent == 4


def test_old_records_are_flushed_by_age_and_sampling_follows_the_rate() -> None:
    now = [0.0]
    sink = ListSink()
    draws = iter([0.1, 0.7, 0.2])
    buffer = CaptureBuffer(sink, rate=0.5, batch=100, max_age_s=60, clock=lambda: now[0], draw=lambda: next(draws))
    assert [buffer.sampled() for _ in range(3)] == [True, False, True]
    _record(buffer, "early")
    now[0] = 61.0
    _record(buffer, "late")
    assert [len(b) for b in sink.batches] == [2]
    assert not CaptureBuffer(sink, rate=0.0).sampled()


def test_a_failing_sink_never_fails_the_caller() -> None:
    buffer = CaptureBuffer(ListSink(fail=True), rate=1.0, batch=1)
    _record(buffer, "r1")
    assert buffer.dropped == 1 and buffer.sent == 0


def test_firehose_sink_chunks_and_retries_failed_entries_once() -> None:
    calls: list[int] = []

    class Firehose:
        def put_record_batch(self, **request: Any) -> dict[str, Any]:
            records = request["Records"]
            calls.append(len(records))
            if len(calls) == 1:  # the first call fails its first entry
                return {"FailedPutCount": 1, "RequestResponses": [{"ErrorCode": "x"}] + [{}] * (len(records) - 1)}
            return {"FailedPutCount": 0, "RequestResponses": [{}] * len(records)}

    failed = FirehoseSink(Firehose(), "s").send([b"r\n"] * 501)
    assert failed == 0 and calls == [500, 1, 1]


def test_capture_is_off_without_a_stream_or_rate() -> None:
    assert buffer_from_env({}, lambda: None) is None
    assert buffer_from_env({"SLUICE_CAPTURE_STREAM": "s", "SLUICE_CAPTURE_RATE": "0"}, lambda: None) is None
    buffer = buffer_from_env({"SLUICE_CAPTURE_STREAM": "s", "SLUICE_CAPTURE_RATE": "0.25"}, lambda: object())
    assert buffer is not None and buffer.rate == 0.25


def test_the_request_id_comes_from_the_caller_then_the_event() -> None:
    assert _request_id({"headers": {"X-Request-Id": "mine"}, "requestContext": {"requestId": "aws"}}) == "mine"
    assert _request_id({"requestContext": {"requestId": "aws"}}) == "aws"
    assert len(_request_id({})) == 36


def test_the_service_without_a_model_captures_nothing() -> None:
    sink = ListSink()
    service = PredictService("m", None, lambda _: None, capture=CaptureBuffer(sink, rate=1.0, batch=1))  # type: ignore
    response = service.handle({"rawPath": "/v1/models/m:predict", "requestContext": {"http": {"method": "POST"}},
                               "body": json.dumps({"instances": [{"a": 1}]})})
    assert response["statusCode"] == 503 and sink.batches == []


def test_features_are_captured_under_names_glue_accepts_and_read_back_by_their_own() -> None:
    # GIVEN a feature whose name Glue/Athena would refuse as a struct field ("Mean Radius/cm")
    sink = ListSink()
    buffer = CaptureBuffer(sink, rate=1.0, batch=1, clock=lambda: 1.0)
    buffer.record(request_id="r", model_version="1", instances=[{"Mean Radius/cm": 14.5}], outputs=[0.3],
                  probabilities=None, kinds={"Mean Radius/cm": "float"})
    # WHEN captured THEN the record's field is the capture field name
    record = json.loads(sink.batches[0][0])
    assert record["features"] == {capture_field("Mean Radius/cm"): 14.5} == {"mean_radius_cm": 14.5}
    # AND the drift reader finds it by the contract's column name
    table = pa.Table.from_pylist([record])
    assert _field(table.column("features").combine_chunks(), "Mean Radius/cm", 1).to_pylist() == [14.5]
