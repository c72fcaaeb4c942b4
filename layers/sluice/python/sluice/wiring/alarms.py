"""Every CloudWatch alarm of a stage, declared once: CDK (infra/) and the local stack (sluice.local) build from it.

Per model (named ``<prefix>-<model>-<kind>``: an ALARM reaches rollback_model through the endpoint-alarm route):
- ``errors``, ``server-faults``: the *rate* of failed requests of alias ``live`` (metric math), only over periods
  with at least ``MIN_REQUESTS`` requests, so one failed request at night rolls nothing back;
- ``latency-p99``: p99 Duration of ``live``;
- ``prediction-shift``: the live version's predictions drifted from its own training baseline while its inputs did
  not (from detect_drift's metrics; see ``prediction_shift``);
- ``live-accuracy`` (classification): live accuracy from feedback below the accuracy floor;
- ``health``: a composite of all of them, the one that notifies.
Outside the rollback prefix (an ALARM notifies, never rolls back):
- ``throttles-<prefix>-<model>``: the share of throttled requests of the predict function;
- ``dead-letters-<prefix>-<function>``: an event parked in a function's dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sluice.config.monitoring import P_VALUE_METHODS
from sluice.deployment import signals
from sluice.monitoring.metrics import DRIFTED_FEATURE_SHARE, PREDICTION_DRIFT
from sluice.naming import LIVE_ALIAS, ResourceNames
from sluice.wiring.routes import QUALITY_ALARM_KIND, ROUTES

if TYPE_CHECKING:
    from sluice.config import ModelConfig, ProjectConfig

Comparison = Literal["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
                     "LessThanLowerOrGreaterThanUpperThreshold"]

MIN_REQUESTS = 10
"""A period with fewer requests than this never breaches a rate alarm (its rate says nothing yet)."""
MAX_ERROR_RATE_PERCENT = 5.0
MAX_THROTTLE_RATE_PERCENT = 5.0
LATENCY_P99_MS = 1000.0
DEFAULT_ACCURACY_FLOOR = 0.8
SHIFT_PERIOD_S = 3600
SHIFT_KIND = "prediction-shift"
HEALTH_KIND = "health"
THROTTLES_KIND = "throttles"
DEAD_LETTERS_KIND = "dead-letters"
ENDPOINT_KINDS = ("errors", "server-faults", "latency-p99")
"""The alarms on the endpoint's own request metrics (CDK keeps them with the endpoint construct)."""


@dataclass(frozen=True)
class QueueName:
    """A dimension value each side resolves: the name of ``function``'s dead-letter queue."""

    function: str


DimensionValue = str | QueueName


@dataclass(frozen=True)
class MetricStat:
    """One metric query of an alarm (``id`` names it in the alarm's expression)."""

    id: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, DimensionValue], ...]
    statistic: str  # "Sum", "Average", "Maximum", or a percentile such as "p99"
    period_s: int

    @property
    def percentile(self) -> bool:
        return self.statistic.startswith("p")


@dataclass(frozen=True)
class AlarmSpec:
    """One metric alarm: a single metric (``expression`` None), or metric math over ``metrics``."""

    name: str
    kind: str
    description: str
    metrics: tuple[MetricStat, ...]
    threshold: float
    comparison: Comparison
    evaluation_periods: int
    datapoints_to_alarm: int
    expression: str | None = None
    model: str | None = None
    notifies: bool = False
    """The alarm's own actions publish to the notifications topic (ALARM and OK)."""
    treat_missing_data: str = "notBreaching"

    @property
    def period_s(self) -> int:
        return self.metrics[0].period_s

    @property
    def metric(self) -> MetricStat:
        """The single metric of a plain alarm (metric math alarms have several)."""
        if self.expression is not None:
            raise ValueError(f"{self.name} is a metric math alarm; read .metrics and .expression")
        return self.metrics[0]


@dataclass(frozen=True)
class CompositeSpec:
    """An alarm in ALARM while any of ``members`` is (CloudWatch composite alarm)."""

    name: str
    kind: str
    description: str
    members: tuple[str, ...]
    model: str
    notifies: bool = True


def notify_alarm_name(names: ResourceNames, kind: str, subject: str) -> str:
    """``<kind>-<prefix>-<subject>``: not ``<prefix>-…``, so its ALARM never reaches rollback_model."""
    return f"{kind}-{names.prefix}-{subject.replace('_', '-')}"


def _alias(function: str) -> tuple[tuple[str, DimensionValue], ...]:
    return (("FunctionName", function), ("Resource", f"{function}:{LIVE_ALIAS}"))


def _rate(failed: str) -> str:
    """Failed requests as a percentage of ``invocations``, 0 below MIN_REQUESTS requests."""
    return f"IF(invocations >= {MIN_REQUESTS}, 100 * FILL({failed}, 0) / invocations, 0)"


def endpoint_alarms(model: ModelConfig, names: ResourceNames) -> tuple[AlarmSpec, ...]:
    """The alarms of one model's endpoint (see the module docstring)."""
    function = names.predict_function(model.name)
    invocations = MetricStat("invocations", signals.LAMBDA_NAMESPACE, "Invocations", _alias(function), "Sum", 60)
    model_dims = tuple(sorted(signals.model_dimensions(model.name).items()))
    rolls_back = f"ALARM rolls {model.name} back"
    alarms = [
        AlarmSpec(names.endpoint_alarm(model.name, "errors"), "errors",
                  f"Error rate of {function}:{LIVE_ALIAS} at least {MAX_ERROR_RATE_PERCENT:g} % over "
                  f">= {MIN_REQUESTS} requests a minute; {rolls_back}",
                  (invocations, MetricStat("errors", signals.LAMBDA_NAMESPACE, "Errors", _alias(function), "Sum", 60)),
                  MAX_ERROR_RATE_PERCENT, "GreaterThanOrEqualToThreshold", 3, 2, expression=_rate("errors"),
                  model=model.name),
        # requests the function answered 500 (it does not raise, so Lambda's Errors misses them); never 4xx
        AlarmSpec(names.endpoint_alarm(model.name, "server-faults"), "server-faults",
                  f"Share of requests {function} answered 500 at least {MAX_ERROR_RATE_PERCENT:g} % over "
                  f">= {MIN_REQUESTS} requests a minute; {rolls_back}",
                  (invocations, MetricStat("faults", signals.NAMESPACE, signals.SERVER_FAULTS, model_dims, "Sum", 60)),
                  MAX_ERROR_RATE_PERCENT, "GreaterThanOrEqualToThreshold", 3, 2, expression=_rate("faults"),
                  model=model.name),
        AlarmSpec(names.endpoint_alarm(model.name, "latency-p99"), "latency-p99",
                  f"p99 Duration of {function}:{LIVE_ALIAS} above {LATENCY_P99_MS:g} ms; {rolls_back}",
                  (MetricStat("latency", signals.LAMBDA_NAMESPACE, "Duration", _alias(function), "p99", 60),),
                  LATENCY_P99_MS, "GreaterThanThreshold", 3, 2, model=model.name),
        prediction_shift(model, names),
    ]
    if model.task == "classification":
        floor = model.gates.min_metrics.get("accuracy", DEFAULT_ACCURACY_FLOOR)
        alarms.append(AlarmSpec(
            names.endpoint_alarm(model.name, QUALITY_ALARM_KIND), QUALITY_ALARM_KIND,
            f"Live accuracy of {model.name} (feedback) below {floor:g}; {rolls_back}",
            (MetricStat("accuracy", signals.NAMESPACE, signals.LIVE_ACCURACY, (("model", model.name),), "Average",
                        3600),),
            floor, "LessThanThreshold", 1, 1, model=model.name))
    throttled = MetricStat("throttles", signals.LAMBDA_NAMESPACE, "Throttles", (("FunctionName", function),),
                           "Sum", 60)
    served = MetricStat("invocations", signals.LAMBDA_NAMESPACE, "Invocations", (("FunctionName", function),),
                        "Sum", 60)
    alarms.append(AlarmSpec(
        notify_alarm_name(names, THROTTLES_KIND, model.name), THROTTLES_KIND,
        f"At least {MAX_THROTTLE_RATE_PERCENT:g} % of {function}'s requests throttled (its maximum concurrency or "
        f"the account's); notifies, never rolls back (raise serving.max_concurrency or the account quota)",
        (served, throttled), MAX_THROTTLE_RATE_PERCENT, "GreaterThanOrEqualToThreshold", 3, 2,
        expression=(f"IF(FILL(invocations, 0) + throttles >= {MIN_REQUESTS}, "
                    "100 * throttles / (FILL(invocations, 0) + throttles), 0)"),
        model=model.name, notifies=True))
    return tuple(alarms)


def prediction_shift(model: ModelConfig, names: ResourceNames) -> AlarmSpec:
    """The live version predicts unlike its own training baseline although its inputs did not drift.

    detect_drift compares the live version's captured traffic with that version's training baseline and publishes
    the prediction drift (the model's drift method and threshold) and the share of drifted features. Drift of the
    predictions without drift of the inputs is a version serving differently from how it was trained (skew, a
    broken artifact): roll it back. Drifted inputs are drift (detect_drift retrains); and a retrain on drifted data
    is judged against its own baseline, so it is never rolled back for predicting unlike the versions before it.
    """
    monitoring = model.monitoring
    method = monitoring.categorical_method if model.task == "classification" else monitoring.numeric_method
    p_value = method in P_VALUE_METHODS  # a p-value drifts *below* its threshold
    dims = (("model", model.name),)
    metrics = (MetricStat("score", signals.NAMESPACE, PREDICTION_DRIFT, dims, "Maximum", SHIFT_PERIOD_S),
               MetricStat("inputs", signals.NAMESPACE, DRIFTED_FEATURE_SHARE, dims, "Maximum", SHIFT_PERIOD_S))
    return AlarmSpec(
        names.endpoint_alarm(model.name, SHIFT_KIND), SHIFT_KIND,
        f"The predictions of {model.name}'s live version drifted from its own training baseline ({method}) while "
        f"fewer than {monitoring.drift_share:g} of its inputs did; ALARM rolls {model.name} back",
        metrics, monitoring.threshold(method), "LessThanThreshold" if p_value else "GreaterThanOrEqualToThreshold",
        1, 1, expression=f"IF(inputs < {monitoring.drift_share:g}, score, {1 if p_value else 0})", model=model.name)


def health_alarm(model: str, names: ResourceNames, alarms: Iterable[AlarmSpec]) -> CompositeSpec:
    """The composite of a model's rollback alarms: the one page per incident."""
    members = tuple(alarm.name for alarm in alarms if alarm.model == model and not alarm.notifies)
    return CompositeSpec(names.endpoint_alarm(model, HEALTH_KIND), HEALTH_KIND,
                         f"Any release alarm of {model}: notifies (rollback_model rolls back once)", members, model)


def dead_letter_functions() -> tuple[str, ...]:
    """Every function a route starts: each has a dead-letter queue."""
    return tuple(sorted({route.function for route in ROUTES}))


def dead_letter_alarm(function: str, names: ResourceNames) -> AlarmSpec:
    """ALARM as soon as one event is parked in ``function``'s dead-letter queue: it needs a redrive."""
    depth = MetricStat("depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                       (("QueueName", QueueName(function)),), "Maximum", 300)
    return AlarmSpec(notify_alarm_name(names, DEAD_LETTERS_KIND, function), DEAD_LETTERS_KIND,
                     f"Events {function} could not process are waiting in its dead-letter queue",
                     (depth,), 1, "GreaterThanOrEqualToThreshold", 1, 1, notifies=True)


@dataclass(frozen=True)
class StageAlarms:
    """Every alarm of a stage."""

    metric_alarms: tuple[AlarmSpec, ...]
    composites: tuple[CompositeSpec, ...]

    def of_model(self, model: str) -> tuple[AlarmSpec, ...]:
        return tuple(alarm for alarm in self.metric_alarms if alarm.model == model)

    def named(self, name: str) -> AlarmSpec:
        for alarm in self.metric_alarms:
            if alarm.name == name:
                return alarm
        raise KeyError(name)


def stage_alarms(config: ProjectConfig, names: ResourceNames) -> StageAlarms:
    """The manifest's alarms for ``config`` deployed under ``names``."""
    per_model = {model: endpoint_alarms(config.model(model), names) for model in sorted(config.models)}
    dead_letters = tuple(dead_letter_alarm(function, names) for function in dead_letter_functions())
    composites = tuple(health_alarm(model, names, alarms) for model, alarms in per_model.items())
    return StageAlarms(tuple(alarm for alarms in per_model.values() for alarm in alarms) + dead_letters, composites)
