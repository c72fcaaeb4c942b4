"""Cold start: a fresh process imports the predict handler's modules and loads a verified ONNX model,
vs a fresh process importing ``sklearn.ensemble``. Run: ``OMP_NUM_THREADS=1 python -m benchmarks.bench_coldstart``.

Each side runs in its own new interpreter, timed inside it (interpreter start-up excluded on both sides);
the median of several runs is compared.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._models import breast_cancer
from benchmarks.results import write_section
from sluice.serving import sha256_hex

RUNS = 9
HANDLER = """
import time
started = time.perf_counter()
import json, pathlib, sys
import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.artifacts import load_verified_model
from sluice.endpoint import PinnedModel
from sluice.observability import logger, metrics, tracer
from sluice.predict import PredictService
from sluice.serving import ModelSignature, OnnxModel, verify_sha256
folder = pathlib.Path(sys.argv[1])
onnx_bytes = (folder / "model.onnx").read_bytes()
verify_sha256(onnx_bytes, (folder / "sha256").read_text())
model = OnnxModel.from_bytes(onnx_bytes, ModelSignature.from_dict(json.loads((folder / "signature.json").read_text())))
imported = time.perf_counter() - started
heavy = sorted(name for name in ("pandas", "pyarrow", "scipy", "sklearn") if name in sys.modules)
print(json.dumps({"seconds": imported, "heavy": heavy}))
"""
SKLEARN = """
import time
started = time.perf_counter()
import sklearn.ensemble
print(__import__("json").dumps({"seconds": time.perf_counter() - started, "heavy": []}))
"""


def _fresh(code: str, *args: str) -> dict[str, object]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "POWERTOOLS_SERVICE_NAME": "predict",
           "POWERTOOLS_METRICS_NAMESPACE": "sluice", "AWS_DEFAULT_REGION": "us-east-1"}
    output = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=env)
    result: dict[str, object] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    trained = breast_cancer("hist_gradient_boosting")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        (path / "model.onnx").write_bytes(trained.exported.onnx_bytes)
        (path / "sha256").write_text(sha256_hex(trained.exported.onnx_bytes))
        (path / "signature.json").write_text(json.dumps(trained.exported.signature.to_dict()))
        handler, sklearn = [], []
        for _ in range(RUNS):  # interleaved, so both sides see the same machine load
            run = _fresh(HANDLER, folder)
            assert run["heavy"] == [], f"the predict path imported {run['heavy']}"
            handler.append(float(run["seconds"]))  # type: ignore[arg-type]
            sklearn.append(float(_fresh(SKLEARN)["seconds"]))  # type: ignore[arg-type]
    ours, reference = statistics.median(handler), statistics.median(sklearn)
    ratio = ours / reference
    lines = ["| | median (ms) | min (ms) | max (ms) |", "|---|---|---|---|",
             f"| predict handler imports + verified HGB ONNX load | {ours * 1000:.0f} | {min(handler) * 1000:.0f} | "
             f"{max(handler) * 1000:.0f} |",
             f"| `import sklearn.ensemble` | {reference * 1000:.0f} | {min(sklearn) * 1000:.0f} | "
             f"{max(sklearn) * 1000:.0f} |"]
    body = (f"{RUNS} fresh interpreters per side, interleaved; timed inside the process. The handler side imports "
            "every module functions/predict/app.py imports (boto3, Powertools, sluice's predict path), verifies the "
            "model's sha256 and opens an onnxruntime session; it is checked to load none of pandas, pyarrow, scipy, "
            f"scikit-learn.\n\n" + "\n".join(lines) +
            f"\n\nRatio (handler / sklearn.ensemble): **{ratio:.1%}** (target < 40%).")
    print("\n".join(lines))
    print(f"ratio {ratio:.3f}")
    write_section("coldstart", "Cold start: predict handler + model load vs import sklearn.ensemble",
                  "OMP_NUM_THREADS=1 python -m benchmarks.bench_coldstart", body)


if __name__ == "__main__":
    main()
