"""Server faults answered as 500s still count against a version: in the bake check's errors and in an alarm."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import boto3
from moto import mock_aws

from sluice.config import load_config
from sluice.deployment import signals
from sluice.deployment.metrics import CloudWatchVariantMetrics, Variant
from sluice.naming import ResourceNames
from sluice.wiring.alarms import MAX_ERROR_RATE_PERCENT, MIN_REQUESTS, endpoint_alarms

MODEL, FUNCTION = "rentals", "sluice-dev-predict-rentals"


def _put(cloudwatch: object, namespace: str, name: str, dimensions: dict[str, str], value: float, at: float) -> None:
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{  # type: ignore[attr-defined]
        "MetricName": name, "Value": value, "Unit": "Count", "Timestamp": datetime.fromtimestamp(at, tz=UTC),
        "Dimensions": [{"Name": key, "Value": item} for key, item in sorted(dimensions.items())]}])


def test_a_versions_errors_are_lambda_errors_plus_its_server_faults() -> None:
    with mock_aws():
        # GIVEN version 2 with 1 Lambda error and 2 requests answered 500, and version 1 with client errors only
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        now = time.time()
        _put(cloudwatch, signals.LAMBDA_NAMESPACE, "Invocations",
             signals.lambda_version_dimensions(FUNCTION, "2"), 10, now)
        _put(cloudwatch, signals.LAMBDA_NAMESPACE, "Errors", signals.lambda_version_dimensions(FUNCTION, "2"), 1, now)
        for _ in range(2):
            _put(cloudwatch, signals.NAMESPACE, signals.SERVER_FAULTS, signals.version_dimensions(MODEL, 2), 1, now)
        _put(cloudwatch, signals.LAMBDA_NAMESPACE, "Invocations",
             signals.lambda_version_dimensions(FUNCTION, "1"), 10, now)
        reader = CloudWatchVariantMetrics(cloudwatch)
        # WHEN the bake check reads both versions
        candidate = reader.read(Variant(MODEL, FUNCTION, 2, "2"), now - 30, now + 30)
        live = reader.read(Variant(MODEL, FUNCTION, 1, "1"), now - 30, now + 30)
        # THEN the faults are errors of version 2 only
        assert (candidate.requests, candidate.errors) == (10, 3)
        assert (live.requests, live.errors) == (10, 0)


def test_the_server_faults_alarm_watches_the_share_of_the_models_faults_among_live_requests(repo_root: Path) -> None:
    # GIVEN a model's alarms in the manifest / WHEN the server-faults one is read
    model = load_config(repo_root / "sluice.toml").model("diabetes")
    names = ResourceNames("sluice-dev")
    function = names.predict_function(model.name)
    alarms = {alarm.kind: alarm for alarm in endpoint_alarms(model, names)}
    faults, errors = alarms["server-faults"], alarms["errors"]
    # THEN it divides the predict function's EMF faults of the model by live's invocations, from MIN_REQUESTS on
    metrics = {stat.id: stat for stat in faults.metrics}
    assert (metrics["faults"].namespace, metrics["faults"].metric, metrics["faults"].statistic) == (
        signals.NAMESPACE, signals.SERVER_FAULTS, "Sum")
    assert dict(metrics["faults"].dimensions) == signals.model_dimensions(model.name)
    assert dict(metrics["invocations"].dimensions) == {"FunctionName": function, "Resource": f"{function}:live"}
    assert faults.expression is not None and f"invocations >= {MIN_REQUESTS}" in faults.expression
    assert (faults.threshold, faults.comparison) == (MAX_ERROR_RATE_PERCENT, "GreaterThanOrEqualToThreshold")
    assert {stat.id: dict(stat.dimensions) for stat in errors.metrics}["errors"] == dict(
        metrics["invocations"].dimensions)
