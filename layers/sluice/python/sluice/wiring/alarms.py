"""The endpoint alarms of every model (ALARM rolls the model back): what CDK defines and the local stack mirrors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Comparison = Literal["GreaterThanOrEqualToThreshold", "GreaterThanThreshold"]


@dataclass(frozen=True)
class EndpointAlarm:
    """One alarm on the ``live`` alias of a model's predict function (AWS/Lambda metrics)."""

    kind: str  # the name suffix: ResourceNames.endpoint_alarm(model, kind)
    metric: str
    statistic: str  # "Sum", or a percentile such as "p99"
    threshold: float  # in the metric's unit (Duration: milliseconds)
    comparison: Comparison
    evaluation_periods: int
    datapoints_to_alarm: int
    period_s: int = 60

    @property
    def percentile(self) -> bool:
        return self.statistic.startswith("p")


ENDPOINT_ALARMS = (
    EndpointAlarm("errors", "Errors", "Sum", 1, "GreaterThanOrEqualToThreshold", 1, 1),
    EndpointAlarm("latency-p99", "Duration", "p99", 1000, "GreaterThanThreshold", 3, 2),
)
