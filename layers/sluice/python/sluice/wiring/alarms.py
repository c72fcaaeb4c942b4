"""The endpoint alarms of every model (ALARM rolls the model back): what CDK defines and the local stack mirrors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sluice.deployment import signals
from sluice.naming import LIVE_ALIAS

Comparison = Literal["GreaterThanOrEqualToThreshold", "GreaterThanThreshold"]


@dataclass(frozen=True)
class EndpointAlarm:
    """One alarm on a model's endpoint: AWS/Lambda metrics of alias ``live``, or the predict function's own EMF."""

    kind: str  # the name suffix: ResourceNames.endpoint_alarm(model, kind)
    metric: str
    statistic: str  # "Sum", or a percentile such as "p99"
    threshold: float  # in the metric's unit (Duration: milliseconds)
    comparison: Comparison
    evaluation_periods: int
    datapoints_to_alarm: int
    period_s: int = 60
    namespace: str = signals.LAMBDA_NAMESPACE

    @property
    def percentile(self) -> bool:
        return self.statistic.startswith("p")

    def dimensions(self, function_name: str, model: str) -> dict[str, str]:
        """Alias ``live`` of the function for AWS/Lambda metrics; the model's aggregate for sluice's EMF."""
        if self.namespace == signals.LAMBDA_NAMESPACE:
            return {"FunctionName": function_name, "Resource": f"{function_name}:{LIVE_ALIAS}"}
        return signals.model_dimensions(model)


ENDPOINT_ALARMS = (
    EndpointAlarm("errors", "Errors", "Sum", 1, "GreaterThanOrEqualToThreshold", 1, 1),
    EndpointAlarm("latency-p99", "Duration", "p99", 1000, "GreaterThanThreshold", 3, 2),
    # requests the function answered 500 (it no longer raises, so Lambda's Errors misses them); never 4xx
    EndpointAlarm("server-faults", signals.SERVER_FAULTS, "Sum", 1, "GreaterThanOrEqualToThreshold", 1, 1,
                  namespace=signals.NAMESPACE),
)
