"""Warm predict latency: sluice's predict handler (ONNX) vs raw scikit-learn on the same pipeline.

The handler path is ``PredictService.handle`` composed as functions/predict/app.py composes it: parse the
Function URL event, validate the JSON instances, build tensors, run onnxruntime, serialize the response, and the
release telemetry (two EMF documents per request, written to /dev/null here). The reference is the bare
scikit-learn call on a DataFrame that is already built. Run: ``OMP_NUM_THREADS=1 python -m benchmarks.bench_inference``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from functools import partial
from typing import Any

import numpy as np

from benchmarks._models import breast_cancer
from benchmarks.results import write_section
from sluice.endpoint import PinnedModel
from sluice.predict import PredictService
from sluice.predict.release import ReleaseTelemetry
from sluice.serving import OnnxModel
from sluice.training import feature_frame, instances_from_frame

FAMILIES = ("logistic_regression", "random_forest", "hist_gradient_boosting")
WARMUP, REPEATS = 50, 1000


def _event(instances: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": "2.0", "rawPath": "/v1/models/breast-cancer:predict", "isBase64Encoded": False,
            "requestContext": {"http": {"method": "POST", "path": "/v1/models/breast-cancer:predict"}},
            "headers": {"content-type": "application/json"}, "body": json.dumps({"instances": instances})}


def _latencies(call: Callable[[], object], repeats: int) -> np.ndarray:
    for _ in range(WARMUP):
        call()
    samples = np.empty(repeats)
    for index in range(repeats):
        started = time.perf_counter()
        call()
        samples[index] = time.perf_counter() - started
    return samples * 1000.0


def measure(family: str) -> list[dict[str, Any]]:
    trained = breast_cancer(family)
    onnx_model = OnnxModel.from_bytes(trained.exported.onnx_bytes, trained.exported.signature)
    pinned = PinnedModel("breast-cancer", 1, "0" * 64)
    telemetry = ReleaseTelemetry("breast-cancer", pinned, shadow_source=lambda _: None, loader=lambda _: onnx_model)
    service = PredictService("breast-cancer", pinned, lambda _: onnx_model, observer=telemetry.observe)
    service.warm()
    rows = []
    for count in (1, 100):
        sample = trained.holdout.sample(count, replace=count > len(trained.holdout), random_state=0)
        event = _event(instances_from_frame(sample, trained.config))
        assert service.handle(event)["statusCode"] == 200
        frame = feature_frame(sample, trained.config)
        repeats = REPEATS if count == 1 else REPEATS // 5
        with open(os.devnull, "w") as sink, redirect_stdout(sink):
            handler = _latencies(partial(service.handle, event), repeats)
        proba = _latencies(partial(trained.result.pipeline.predict_proba, frame), repeats)
        predict = _latencies(partial(trained.result.pipeline.predict, frame), repeats)
        rows.append({"family": family, "rows": count, "handler": handler, "predict_proba": proba, "predict": predict})
    return rows


def main() -> None:
    results = [row for family in FAMILIES for row in measure(family)]
    lines = ["| family | rows | sluice handler p50 / p99 (ms) | sklearn predict_proba p50 / p99 (ms) | "
             "sklearn predict p50 (ms) | speed-up p50 (predict_proba / handler) |", "|---|---|---|---|---|---|"]
    for row in results:
        handler, proba, predict = row["handler"], row["predict_proba"], row["predict"]
        ratio = np.median(proba) / np.median(handler)
        lines.append(f"| {row['family']} | {row['rows']} | {np.median(handler):.3f} / {np.percentile(handler, 99):.3f}"
                     f" | {np.median(proba):.3f} / {np.percentile(proba, 99):.3f} | {np.median(predict):.3f} | "
                     f"{ratio:.1f}x |")
        print(lines[-1])
    body = ("Warm latency after 50 warm-up calls; 1000 timed calls for 1 row, 200 for 100 rows. The handler "
            "includes event parsing, instance validation, tensor building, onnxruntime (1 thread), the JSON "
            "response and the release telemetry (two EMF documents per request, as deployed; to /dev/null here); "
            "scikit-learn gets a pre-built DataFrame. Target: 1-row handler >= 10x faster than "
            "predict_proba.\n\n" + "\n".join(lines))
    write_section("inference", "Inference: warm predict handler vs scikit-learn",
                  "OMP_NUM_THREADS=1 python -m benchmarks.bench_inference", body)


if __name__ == "__main__":
    main()
