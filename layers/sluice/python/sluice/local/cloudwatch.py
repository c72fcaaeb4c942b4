"""The local runtime plays CloudWatch for the endpoint: Lambda's per-version metrics, EMF from function logs,
and the percentile statistics moto lacks.

On AWS, Lambda publishes Invocations/Errors/Duration with the ExecutedVersion dimension for every request
through an alias (Throttles for a request refused at the concurrency limit), and CloudWatch extracts metrics from
EMF log lines. moto does neither, so the runtime puts the same datapoints (same namespaces, names and
dimensions) with ``put_metric_data``. Every function here is safe to call from many threads at once (one boto3
client, one ``put_metric_data`` per call, no shared state): the local endpoint serves concurrent requests.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sluice.deployment import signals
from sluice.naming import LIVE_ALIAS

MAX_METRICS_PER_PUT = 1000  # PutMetricData's limit of metrics per request
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


def install_percentiles() -> None:
    """Teach moto's statistics ``pNN`` (nearest rank over raw values), as CloudWatch computes them."""
    from moto.cloudwatch import models

    original = models.Statistics.get_statistics_for_type
    if getattr(original, "_sluice_percentiles", False):
        return

    def get_statistics_for_type(self: Any, stat: str) -> Any:
        match = _PERCENTILE.match(stat)
        if match is None:
            return original(self, stat)
        values = sorted(self.metric_single_values_list)
        if not values:
            return None
        rank = max(1, math.ceil(float(match.group(1)) / 100 * len(values)))
        return values[rank - 1]

    get_statistics_for_type._sluice_percentiles = True  # type: ignore[attr-defined]
    models.Statistics.get_statistics_for_type = get_statistics_for_type  # type: ignore[method-assign]


def record_invocation(cloudwatch: Any, function_name: str, version: str, *, duration_ms: float, error: bool,
                      at: float) -> None:
    """What Lambda publishes for one request through alias ``live`` served by ``version``: the same datapoints
    per version (ExecutedVersion), per alias (what the endpoint alarms watch) and per function."""
    by_version = signals.lambda_version_dimensions(function_name, version)
    timestamp = datetime.fromtimestamp(at, tz=UTC)
    data = []
    for dimensions in (by_version, {k: v for k, v in by_version.items() if k != "ExecutedVersion"},
                       {"FunctionName": function_name}):
        dims = _dimensions(dimensions)
        data += [
            {"MetricName": "Invocations", "Dimensions": dims, "Value": 1.0, "Unit": "Count", "Timestamp": timestamp},
            {"MetricName": "Errors", "Dimensions": dims, "Value": 1.0 if error else 0.0, "Unit": "Count",
             "Timestamp": timestamp},
            {"MetricName": "Duration", "Dimensions": dims, "Value": round(duration_ms, 3),
             "Unit": "Milliseconds", "Timestamp": timestamp},
        ]
    cloudwatch.put_metric_data(Namespace=signals.LAMBDA_NAMESPACE, MetricData=data)


def record_throttle(cloudwatch: Any, function_name: str, *, at: float) -> None:
    """What Lambda publishes for a request refused at the function's concurrency limit (never an invocation)."""
    dimensions = _dimensions({"FunctionName": function_name, "Resource": f"{function_name}:{LIVE_ALIAS}"})
    cloudwatch.put_metric_data(Namespace=signals.LAMBDA_NAMESPACE, MetricData=[
        {"MetricName": "Throttles", "Dimensions": dimensions, "Value": 1.0, "Unit": "Count",
         "Timestamp": datetime.fromtimestamp(at, tz=UTC)},
    ])


def ingest_emf(cloudwatch: Any, output: str, *, at: float) -> list[str]:
    """Put the metrics of every EMF line in ``output`` (one ``put_metric_data`` per namespace); returns the other
    lines (ordinary log output)."""
    others = []
    batches: dict[str, list[dict[str, Any]]] = {}
    for line in output.splitlines():
        document = _emf(line)
        if document is None:
            others.append(line)
            continue
        for namespace, data in _metric_data(document, at):
            batches.setdefault(namespace, []).extend(data)
    for namespace, data in batches.items():
        for start in range(0, len(data), MAX_METRICS_PER_PUT):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start:start + MAX_METRICS_PER_PUT])
    return others


def _emf(line: str) -> dict[str, Any] | None:
    text = line.strip()
    if not text.startswith("{") or '"_aws"' not in text:
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) and isinstance(document.get("_aws"), dict) else None


def _metric_data(document: dict[str, Any], at: float) -> Iterable[tuple[str, list[dict[str, Any]]]]:
    timestamp = datetime.fromtimestamp(at, tz=UTC)  # the local clock (it may have been advanced)
    for directive in document["_aws"].get("CloudWatchMetrics", []):
        data = []
        for dimension_set in directive.get("Dimensions", []):
            dimensions = [{"Name": name, "Value": str(document[name])} for name in dimension_set if name in document]
            for metric in directive.get("Metrics", []):
                raw = document.get(metric["Name"])
                values = raw if isinstance(raw, list) else [raw]
                points = [float(value) for value in values if isinstance(value, int | float)]
                if points:
                    data.append({"MetricName": metric["Name"], "Dimensions": dimensions, "Values": points,
                                 "Unit": metric.get("Unit", "None"), "Timestamp": timestamp})
        yield directive["Namespace"], data


def _dimensions(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in sorted(mapping.items())]
