"""The monitoring part of the demo: drifted traffic is captured, labelled, detected, and retrained away."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sluice.demo import samples
from sluice.local import LocalCloud
from sluice.registry import DynamoDBRegistry

MODEL = "breast-cancer"
TARGET = "diagnosis"
SHIFTED_PREFIXES = ("mean_", "worst_")
SHIFT = 1.4
"""Larger masses than the training data saw, yet inside the contract's ranges: the labelled traffic is valid
training data (at x1.5 mean_fractal_dimension would leave its range and the contract would refuse the rows)."""
REQUESTS = 3
BATCH = 100
RELEASE_REQUESTS = 200
MAX_RELEASE_CHECKS = 10


def drifted_traffic(cloud: LocalCloud) -> list[tuple[str, list[dict[str, Any]], list[str]]]:
    """Serve ``REQUESTS`` requests of shifted rows; returns (request id, instances, true labels) per request."""
    served = []
    for number in range(REQUESTS):
        features, truth = samples.instances(samples.BREAST_CANCER, TARGET, BATCH, start=number * BATCH)
        shifted = [{k: v * SHIFT if k.startswith(SHIFTED_PREFIXES) else v for k, v in row.items()} for row in features]
        response = cloud.predict(MODEL, shifted)
        if response.status != 200:
            raise RuntimeError(f"the endpoint answered {response.status}: {response.body}")
        served.append((str(response.body["request_id"]), shifted, truth))
    return served


def feedback_csv(served: list[tuple[str, list[dict[str, Any]], list[str]]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["request_id", "instance", TARGET])
    for request_id, _instances, truth in served:
        writer.writerows((request_id, index, label) for index, label in enumerate(truth))
    return buffer.getvalue().encode()


def play_monitoring(cloud: LocalCloud, reporter: Any, registry: DynamoDBRegistry, check: Any, *,
                    first_step: int) -> int:
    """Steps ``first_step``…: capture, feedback, drift → retrain (debounced), deploy. Returns the live version."""
    step = first_step
    before = {v.version for v in registry.list_versions(MODEL)}
    reporter.step(step, f"Traffic drifts: {REQUESTS * BATCH} requests with measurements x{SHIFT} are served "
                        "and captured (Firehose locally: staged JSON → Parquet under captures/)")
    served = drifted_traffic(cloud)
    delivered = cloud.deliver_captures()
    keys = cloud.clients.s3.list_objects_v2(Bucket=cloud.settings.data_bucket,
                                            Prefix=f"captures/{MODEL}/").get("Contents", [])
    check(delivered >= REQUESTS * BATCH and bool(keys), f"{delivered} captured rows landed as partitioned Parquet "
                                                         f"under captures/{MODEL}/date=…/")

    step += 1
    reporter.step(step, f"Ground truth arrives: labels dropped under feedback/{MODEL}/ are joined by request id")
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=f"feedback/{MODEL}/labels-1.csv",
                                Body=feedback_csv(served))
    cloud.run_until_idle()
    quality = _events(cloud, "LiveQualityMeasured")
    check(bool(quality) and "accuracy" in quality[-1]["metrics"],
          f"live quality measured per version: {json.dumps(quality[-1]['by_version']) if quality else 'none'}")

    step += 1
    reporter.step(step, "The drift schedule fires twice in a row: detect_drift compares the captured traffic "
                        "with the live version's training baseline")
    results = cloud.fire_schedule(MODEL, "drift-schedule") + cloud.fire_schedule(MODEL, "drift-schedule")
    check(all(result.get("outcome") == "drift_detected" for result in results),
          f"drift detected in {len(results[0]['drifted_features'])} features "
          f"(e.g. {', '.join(results[0]['drifted_features'][:4])}); report at {results[0]['report_key']}")
    cloud.run_until_idle()
    debounced = [e.detail for e in cloud.timeline if e.kind == "invoke" and e.name == "train_model"
                 and e.detail.get("outcome") == "debounced" and e.detail.get("trigger") == "DriftDetected"]
    check(len(_events(cloud, "DriftDetected")) == 2 and len(debounced) == 1,
          "two DriftDetected events started one retrain; the second was debounced (retrain guard, cool-down)")
    new = sorted({v.version for v in registry.list_versions(MODEL)} - before)
    for _ in range(MAX_RELEASE_CHECKS):  # canary/linear: bake, check, promote (all at once: nothing to do)
        if not new or _deployed(cloud, new[0]) or not _started(cloud, new[0]):
            break
        _finish_release(cloud, reporter)
    check(len(new) == 1 and _deployed(cloud, new[0]),
          f"the drift-triggered retrain v{new[0] if new else '?'} passed its gate and was deployed")
    live = registry.get_alias(MODEL, "live")
    return live.version if live else 0


def _deployed(cloud: LocalCloud, version: int) -> bool:
    return any(e.get("version") == version for e in _events(cloud, "ModelDeployed"))


def _started(cloud: LocalCloud, version: int) -> bool:
    return any(e.get("version") == version for e in _events(cloud, "DeploymentStarted"))


def _finish_release(cloud: LocalCloud, reporter: Any) -> None:
    """A gradual release (the model's deployment strategy): serve traffic, let the bake pass, run its check."""
    policy = cloud.config.model(MODEL).deployment
    features, _ = samples.instances(samples.BREAST_CANCER, TARGET, 2, start=60)
    for _ in range(RELEASE_REQUESTS):
        cloud.predict(MODEL, features)
    cloud.advance(policy.bake_minutes)
    result = cloud.fire_schedule(MODEL, "deployment-check")[0]
    cloud.run_until_idle()
    reporter.info(f"{policy.strategy} release of the retrained version, after its bake: {json.dumps(result)[:300]}")


def _events(cloud: LocalCloud, detail_type: str) -> list[dict[str, Any]]:
    return [entry.detail for entry in cloud.timeline if entry.kind == "event" and entry.name == detail_type]
