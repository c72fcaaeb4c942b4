"""The monitoring loop on the local stack: capture → feedback (which becomes training data) → drift → a retrain
that learns from the labelled traffic, debounced → quality alarm."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sluice.cli.app import app
from sluice.config import load_config
from sluice.demo import samples
from sluice.demo.monitoring_story import BATCH, REQUESTS, drifted_traffic, feedback_csv
from sluice.registry import DynamoDBRegistry, Status
from tests.conftest import CONFIG, REPO

MODEL = "breast-cancer"
pytestmark = pytest.mark.slow


@pytest.fixture
def learning_cloud(tmp_path: Path) -> Iterator[Any]:
    """The local stack with the project's config, except that breast-cancer learns from its feedback."""
    from sluice.local import LocalCloud

    text = re.sub(rf"(?ms)^\[models\.{MODEL}\.data\]\n.*?(?=^\[|\Z)", "", CONFIG.read_text())
    config = tmp_path / "sluice.toml"
    config.write_text(text + f"\n[models.{MODEL}.data]\nlearn_from_feedback = true\n")
    with LocalCloud(config, functions_dir=REPO / "functions") as local:
        yield local


def _in_ranges(row: dict[str, Any], contract: Any) -> bool:
    return all((spec.min is None or row[spec.name] >= spec.min) and (spec.max is None or row[spec.name] <= spec.max)
               for spec in contract.columns if spec.name in row and spec.type in ("float", "int"))


def _events(cloud: Any, detail_type: str) -> list[dict[str, Any]]:
    return [e.detail for e in cloud.timeline if e.kind == "event" and e.name == detail_type]


def _runs(cloud: Any, function: str) -> list[dict[str, Any]]:
    return [e.detail for e in cloud.timeline if e.kind == "invoke" and e.name == function]


def test_drifted_traffic_is_captured_scored_detected_and_retrained_once(learning_cloud: Any) -> None:
    cloud = learning_cloud
    registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
    # GIVEN version 1 live, trained with its baseline stored next to its artifacts
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle()
    live = registry.get_alias(MODEL, "live")
    assert live is not None and live.version == 1
    cloud.clients.s3.head_object(Bucket=cloud.settings.artifact_bucket, Key="models/breast-cancer/000001/baseline.json")

    # WHEN drifted requests are served THEN every one is captured as Parquet under captures/<model>/date=…/
    served = drifted_traffic(cloud)
    assert cloud.deliver_captures() == REQUESTS * BATCH
    keys = [o["Key"] for o in cloud.clients.s3.list_objects_v2(Bucket=cloud.settings.data_bucket,
                                                               Prefix=f"captures/{MODEL}/date=")["Contents"]]
    assert keys and all(key.endswith(".parquet") for key in keys)

    # WHEN labels for the requests inside the contract's ranges are dropped under feedback/ (one request outside
    # them would make the whole file fail the contract, as it would a drop)
    contract = load_config(CONFIG).model(MODEL).contract
    inside = [_in_ranges(row, contract) for _, rows, _ in served for row in rows]
    body = feedback_csv(served).decode().splitlines()  # a header, then one line per instance in serving order
    kept = [body[0]] + [line for line, keep in zip(body[1:], inside, strict=True) if keep]
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=f"feedback/{MODEL}/day-1.csv",
                                Body="\n".join(kept).encode() + b"\n")
    cloud.run_until_idle()
    # THEN live quality is measured for version 1
    (quality,) = _events(cloud, "LiveQualityMeasured")
    assert quality["matched"] == len(kept) - 1 >= 100 and set(quality["by_version"]) == {"1"}
    assert 0.0 <= quality["metrics"]["accuracy"] <= 1.0 and "roc_auc" in quality["metrics"]
    # AND the labelled traffic passed the contract and became an accepted dataset of the model
    assert quality["dataset"]["outcome"] == "accepted", quality["dataset"]
    assert quality["dataset"]["rows"] == len(kept) - 1
    learned = quality["dataset"]["data_version"]

    # WHEN the drift schedule fires twice
    first, second = cloud.fire_schedule(MODEL, "drift-schedule") + cloud.fire_schedule(MODEL, "drift-schedule")
    cloud.run_until_idle()
    # THEN both detect drift in the shifted features and publish DriftDetected with a report
    assert first["outcome"] == second["outcome"] == "drift_detected"
    assert "mean_radius" in first["drifted_features"] and "texture_error" not in first["drifted_features"]
    assert len(_events(cloud, "DriftDetected")) == 2
    # AND exactly one retrain ran (version 2, on the drop and the labelled traffic); the other was debounced by
    # the cool-down its successful training started
    outcomes = sorted(run["outcome"] for run in _runs(cloud, "train_model")[1:])
    assert outcomes == ["debounced", "trained"]
    retrained = registry.get_version(MODEL, 2)
    assert retrained.lineage["trigger"] == "DriftDetected"
    assert retrained.lineage["data_versions"] == [registry.get_version(MODEL, 1).data_version, learned]
    assert retrained.data_version != registry.get_version(MODEL, 1).data_version
    # AND v2 was released as breast-cancer releases (a canary beside v1, which went live all at once)
    assert [event["version"] for event in _events(cloud, "DeploymentStarted")] == [1, 2]
    assert retrained.status is Status.CANARY

    # AND `sluice drift report` shows the latest report (JSON), whose HTML is in the data bucket
    result = CliRunner().invoke(app, ["drift", "report", MODEL, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["detected"] and document["version"] == 1 and document["rows"] >= REQUESTS * BATCH
    page = cloud.clients.s3.get_object(Bucket=cloud.settings.data_bucket, Key=document["html_key"])["Body"].read()
    assert b"<svg" in page and b"mean_radius" in page

    # WHEN the model's live-accuracy alarm goes to ALARM during the cool-down
    cloud.clients.cloudwatch.put_metric_alarm(
        AlarmName=cloud.settings.names.endpoint_alarm(MODEL, "live-accuracy"), Namespace="sluice",
        MetricName="LiveAccuracy", Dimensions=[{"Name": "model", "Value": MODEL}], Statistic="Average",
        Period=3600, EvaluationPeriods=1, Threshold=0.8, ComparisonOperator="LessThanThreshold")
    cloud.set_alarm(MODEL, "live-accuracy")
    cloud.run_until_idle()
    # THEN train_model hears it and debounces it (no second retrain storm)
    last = _runs(cloud, "train_model")[-1]
    assert last["outcome"] == "debounced" and "live-accuracy" in last["trigger"]
    assert len(registry.list_versions(MODEL)) == 2


def test_without_enough_captured_traffic_there_is_no_verdict(cloud: Any) -> None:
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle()
    (result,) = cloud.fire_schedule(MODEL, "drift-schedule")
    assert result["outcome"] == "insufficient_data" and result["rows"] == 0
