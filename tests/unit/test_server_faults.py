"""Server faults answered as 500s still count against a version: in the bake check's errors and in an alarm."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import boto3
from moto import mock_aws

from sluice.deployment import signals
from sluice.deployment.metrics import CloudWatchVariantMetrics, Variant
from sluice.wiring.alarms import ENDPOINT_ALARMS

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


def test_the_server_faults_alarm_watches_the_models_faults_and_rolls_back_on_the_first() -> None:
    # GIVEN the endpoint alarms / WHEN the server-faults one is read
    (faults,) = [alarm for alarm in ENDPOINT_ALARMS if alarm.metric == signals.SERVER_FAULTS]
    # THEN it sums the predict function's EMF metric over the model and fires on one fault
    assert (faults.namespace, faults.statistic, faults.threshold, faults.comparison) == (
        signals.NAMESPACE, "Sum", 1, "GreaterThanOrEqualToThreshold")
    assert faults.dimensions(FUNCTION, MODEL) == signals.model_dimensions(MODEL)
    (errors,) = [alarm for alarm in ENDPOINT_ALARMS if alarm.kind == "errors"]
    assert errors.dimensions(FUNCTION, MODEL) == {"FunctionName": FUNCTION, "Resource": f"{FUNCTION}:live"}
