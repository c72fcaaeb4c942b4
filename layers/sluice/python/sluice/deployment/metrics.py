"""Per-version metrics of a release, read from CloudWatch through one small interface."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sluice.deployment import signals
from sluice.deployment.signals import VariantStats


@dataclass(frozen=True)
class Variant:
    """One side of a comparison: a model version behind a Lambda version of the model's predict function."""

    model: str
    function_name: str
    model_version: int
    lambda_version: str
    shadow: bool = False


class VariantMetrics(Protocol):
    def read(self, variant: Variant, start: float, end: float) -> VariantStats: ...


class CloudWatchVariantMetrics:
    """AWS/Lambda Invocations/Errors/Duration by ExecutedVersion and the predict function's EMF metrics.

    A version's errors are Lambda's function errors plus its ``ServerFaults`` (requests answered 500); client
    errors (4xx) are answers, so neither counts them.
    """

    def __init__(self, cloudwatch_client: Any) -> None:
        self._cloudwatch = cloudwatch_client

    def read(self, variant: Variant, start: float, end: float) -> VariantStats:
        period = max(60, math.ceil((end - start) / 60.0) * 60)
        by_lambda = signals.lambda_version_dimensions(variant.function_name, variant.lambda_version)
        by_version = signals.version_dimensions(variant.model, variant.model_version)
        queries = {
            "score_sum": (signals.NAMESPACE, signals.PREDICTION_SCORE, by_version, "Sum"),
            "score_n": (signals.NAMESPACE, signals.PREDICTION_SCORE, by_version, "SampleCount"),
            "accuracy": (signals.NAMESPACE, signals.LIVE_ACCURACY,
                         signals.live_accuracy_dimensions(variant.model, variant.model_version), "Average"),
        }
        if variant.shadow:
            queries.update({
                "requests": (signals.NAMESPACE, signals.SHADOW_REQUESTS, by_version, "Sum"),
                "errors": (signals.NAMESPACE, signals.SHADOW_ERRORS, by_version, "Sum"),
                "agree_sum": (signals.NAMESPACE, signals.SHADOW_AGREEMENT, by_version, "Sum"),
                "agree_n": (signals.NAMESPACE, signals.SHADOW_AGREEMENT, by_version, "SampleCount"),
            })
        else:
            queries.update({
                "requests": (signals.LAMBDA_NAMESPACE, "Invocations", by_lambda, "Sum"),
                "errors": (signals.LAMBDA_NAMESPACE, "Errors", by_lambda, "Sum"),
                "faults": (signals.NAMESPACE, signals.SERVER_FAULTS, by_version, "Sum"),  # answered 500s
                "p99": (signals.LAMBDA_NAMESPACE, "Duration", by_lambda, "p99"),
            })
        values = self._query(queries, start, start + period, period)
        score_n, agree_n = values.get("score_n", 0.0), values.get("agree_n", 0.0)
        return VariantStats(
            requests=values.get("requests", 0.0),
            errors=values.get("errors", 0.0) + values.get("faults", 0.0),
            latency_p99_ms=values.get("p99"),
            score_mean=values["score_sum"] / score_n if score_n else None,
            scores=score_n,
            agreement=values["agree_sum"] / agree_n if agree_n else None,
            live_accuracy=values.get("accuracy"),
        )

    def _query(self, queries: dict[str, tuple[str, str, dict[str, str], str]], start: float, end: float,
               period: int) -> dict[str, float]:
        response = self._cloudwatch.get_metric_data(
            StartTime=datetime.fromtimestamp(start, tz=UTC), EndTime=datetime.fromtimestamp(end, tz=UTC),
            MetricDataQueries=[
                {"Id": key, "ReturnData": True, "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": name,
                               "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dimensions.items())]},
                    "Period": period, "Stat": stat}}
                for key, (namespace, name, dimensions, stat) in queries.items()
            ],
        )
        values: dict[str, float] = {}
        for result in response.get("MetricDataResults", []):
            points = [float(value) for value in result.get("Values", []) if value is not None]
            if not points:
                continue
            stat = queries[result["Id"]][3]
            values[result["Id"]] = max(points) if stat.startswith("p") or stat == "Average" else sum(points)
        return values
