"""Nothing slow on the request path: a warm one-row prediction with a shadow release in progress, and with
capture on, vs the plain request — as deployed (the work deferred after the response) and as before (inline).
Run: ``OMP_NUM_THREADS=1 python -m benchmarks.bench_request_path``.

Every variant is ``PredictService.handle`` inside ``AfterResponse.invocation()`` as functions/predict/app.py runs it.
"Deployed" hands the post-response work over as on Lambda (where the internal extension runs it after the response
is posted) and the benchmark runs it after the timed call, timing it separately; "inline" is the code before this
change (telemetry, shadow scoring and capture inside the request). Live is the logistic regression, the shadow the
HistGradientBoosting candidate; capture samples every request and sends a ``PutRecordBatch`` per 100 records to a
Firehose stream on a moto server in another process (real HTTP). All variants run interleaved, request by request.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Any

import boto3

from benchmarks._models import breast_cancer
from benchmarks._moto import moto_server
from benchmarks.results import write_section
from sluice.endpoint.pinning import PinnedModel
from sluice.predict.after import AfterResponse
from sluice.predict.capture import CaptureBuffer, FirehoseSink
from sluice.predict.release import ReleaseTelemetry
from sluice.predict.service import PredictService
from sluice.serving.model import OnnxModel
from sluice.training.features import instances_from_frame

MODEL, STREAM = "breast-cancer", "bench-capture"
WARMUP, REQUESTS = 100, 3000
LIVE, SHADOW = PinnedModel(MODEL, 1, "0" * 64), PinnedModel(MODEL, 2, "1" * 64)


@dataclass
class Variant:
    name: str
    service: PredictService
    after: AfterResponse
    request_ms: list[float] = field(default_factory=list)
    after_ms: list[float] = field(default_factory=list)

    def call(self, event: dict[str, Any]) -> None:
        started = time.perf_counter()
        with self.after.invocation():
            response = self.service.handle(event)
        self.request_ms.append((time.perf_counter() - started) * 1000)
        assert response["statusCode"] == 200, response
        started = time.perf_counter()
        if self.after.run_pending():
            self.after_ms.append((time.perf_counter() - started) * 1000)


def _variant(name: str, live: OnnxModel, *, shadow: OnnxModel | None = None, capture: CaptureBuffer | None = None,
             deferred: bool = True, shadow_log: list[dict[str, Any]] | None = None) -> Variant:
    telemetry = ReleaseTelemetry(MODEL, LIVE, loader=lambda pinned: shadow if shadow and pinned == SHADOW else live,
                                 shadow_source=lambda _: SHADOW if shadow is not None else None,
                                 log=None if shadow_log is None else shadow_log.append)
    after = AfterResponse(handover=lambda: None)  # the extension drains it: here, the loop after the timed call
    service = PredictService(MODEL, LIVE, lambda _: live, observer=telemetry.observe, capture=capture,
                             defer=after.defer if deferred else None)
    service.warm()
    return Variant(name, service, after)


def _p(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


def _row(variant: Variant) -> str:
    work = (f"{statistics.median(variant.after_ms):.3f} / {_p(variant.after_ms, 0.99):.3f}"
            if variant.after_ms else "—")
    return (f"| {variant.name} | {statistics.median(variant.request_ms):.3f} | {_p(variant.request_ms, 0.9):.3f} | "
            f"{_p(variant.request_ms, 0.99):.3f} | {work} |")


def main() -> None:
    live_trained, shadow_trained = breast_cancer("logistic_regression"), breast_cancer("hist_gradient_boosting")
    live = OnnxModel.from_bytes(live_trained.exported.onnx_bytes, live_trained.exported.signature)
    shadow = OnnxModel.from_bytes(shadow_trained.exported.onnx_bytes, shadow_trained.exported.signature)
    instances = instances_from_frame(live_trained.holdout, live_trained.config)
    events = [{"version": "2.0", "rawPath": f"/v1/models/{MODEL}:predict", "isBase64Encoded": False,
               "requestContext": {"http": {"method": "POST"}, "requestId": f"r{index}"},
               "headers": {"content-type": "application/json"},
               "body": json.dumps({"instances": [instances[index % len(instances)]]})}
              for index in range(WARMUP + REQUESTS)]
    shadow_log: list[dict[str, Any]] = []
    with moto_server() as endpoint:
        client = boto3.client("firehose", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").create_bucket(Bucket="bench")
        client.create_delivery_stream(DeliveryStreamName=STREAM, ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/x", "BucketARN": "arn:aws:s3:::bench", "Prefix": "c/"})

        def capture() -> CaptureBuffer:
            return CaptureBuffer(FirehoseSink(client, STREAM), rate=1.0, batch=100)

        variants = [
            _variant("plain (no shadow, no capture)", live),
            _variant("shadow on, deferred (deployed)", live, shadow=shadow, shadow_log=shadow_log),
            _variant("shadow on, inline (before)", live, shadow=shadow, deferred=False),
            _variant("capture on, deferred (deployed)", live, capture=capture()),
            _variant("capture on, inline (before)", live, capture=capture(), deferred=False),
        ]
        with open(os.devnull, "w") as devnull, redirect_stdout(devnull):  # the EMF documents
            for index, event in enumerate(events):
                order = variants[index % len(variants):] + variants[:index % len(variants)]
                for variant in order:
                    variant.call(event)
                if index + 1 == WARMUP:
                    for variant in variants:
                        variant.request_ms.clear()
                        variant.after_ms.clear()
                        shadow_log.clear()
            for variant in variants:
                variant.after.shutdown()
                if variant.service.capture is not None:
                    variant.service.capture.flush()
    plain, shadow_on, _, captured, _ = variants
    delivered = {variant.name: variant.service.capture.sent for variant in variants if variant.service.capture}
    assert all(sent == WARMUP + REQUESTS for sent in delivered.values()), delivered
    assert len(shadow_log) == REQUESTS and all("agreement" in record for record in shadow_log), "shadow results lost"
    shadow_ratio = statistics.median(shadow_on.request_ms) / statistics.median(plain.request_ms)
    capture_added = statistics.median(captured.request_ms) - statistics.median(plain.request_ms)
    agreement = statistics.mean(record["agreement"] for record in shadow_log)
    lines = ["| variant | request p50 ms | p90 ms | p99 ms | post-response work p50 / p99 ms |",
             "|---|---|---|---|---|", *(_row(variant) for variant in variants)]
    verdict = "within" if shadow_ratio <= 1.10 else "NOT within"
    body = (f"{REQUESTS} one-row requests per variant after {WARMUP} warm-up requests, interleaved request by "
            "request; request time is the handler's invocation (what Lambda reports as Duration and the p99 alarm "
            "reads), post-response work is what the internal extension runs after the response is posted "
            "(PostRuntimeExtensionsDuration on Lambda). Every shadow result and every capture record was delivered "
            f"(checked: {len(shadow_log)} shadow results, mean agreement {agreement:.3f}; "
            f"{', '.join(f'{name}: {sent} records' for name, sent in delivered.items())}).\n\n" + "\n".join(lines) +
            f"\n\nShadow on / off, request p50: **{shadow_ratio:.2f}x** ({verdict} the 10 % target). "
            f"Capture adds **{capture_added:.3f} ms** at p50 to the request (sampling and queuing; encoding and "
            "the Firehose flush run after the response).")
    print("\n".join(lines))
    print(f"shadow ratio {shadow_ratio:.3f}; capture adds {capture_added:.3f} ms")
    write_section("request_path", "Request path: shadow scoring and capture after the response",
                  "OMP_NUM_THREADS=1 python -m benchmarks.bench_request_path", body)


if __name__ == "__main__":
    main()
