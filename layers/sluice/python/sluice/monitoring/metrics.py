"""CloudWatch metrics of monitoring (EMF through Powertools), with exactly the dimensions given.

No ``service`` dimension is added: alarms and dashboards address these metrics by ``model`` (and
``version`` or ``feature``) alone, e.g. the ``LiveAccuracy`` alarm on dimensions ``{model}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

NAMESPACE = "sluice"
LIVE_ACCURACY = "LiveAccuracy"
LIVE_METRIC_NAMES = {"accuracy": LIVE_ACCURACY, "roc_auc": "LiveAUC", "rmse": "LiveRMSE", "mae": "LiveMAE"}
DRIFT_SCORE = "DriftScore"
DRIFTED_FEATURE_SHARE = "DriftedFeatureShare"
PREDICTION_DRIFT = "PredictionDriftScore"
DRIFT_DETECTED = "DriftDetected"
FEEDBACK_ROWS = "FeedbackRows"


def emit(values: Mapping[str, float], dimensions: Mapping[str, str], *, unit: MetricUnit = MetricUnit.NoUnit,
         namespace: str = NAMESPACE) -> None:
    """One EMF document: ``values`` under exactly ``dimensions`` (nothing when ``values`` is empty)."""
    if not values:
        return
    metrics = EphemeralMetrics(namespace=namespace, service="")
    for dimension, label in dimensions.items():
        metrics.add_dimension(name=dimension, value=label)
    for name, value in values.items():
        metrics.add_metric(name=name, unit=unit, value=float(value))
    metrics.flush_metrics()
