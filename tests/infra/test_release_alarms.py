"""Release safety in the template: alarms that roll back, a composite that notifies, the topic and the grants."""

from __future__ import annotations

import json
import re

from sluice.config import load_config
from sluice.naming import ResourceNames, capture_field
from sluice.wiring import ROUTES, PatternContext
from tests.infra.conftest import REPO, Synth

NAMES = ResourceNames("sluice-dev")
CONFIG = load_config(REPO / "sluice.toml")


def _alarms(synth: Synth) -> dict[str, dict]:  # type: ignore[type-arg]
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()}


def test_every_model_has_a_prediction_shift_alarm_and_classifiers_a_live_accuracy_alarm(synth: Synth) -> None:
    alarms = _alarms(synth)
    for model, config in CONFIG.models.items():
        # the shift alarm judges the live version against its own training baseline (detect_drift's metrics):
        # its predictions drifted while its inputs did not
        shift = alarms[NAMES.endpoint_alarm(model, "prediction-shift")]
        watched = {query["MetricStat"]["Metric"]["MetricName"] for query in shift["Metrics"] if "MetricStat" in query}
        assert watched == {"PredictionDriftScore", "DriftedFeatureShare"}
        (expression,) = [query["Expression"] for query in shift["Metrics"] if "Expression" in query]
        assert expression.startswith(f"IF(inputs < {config.monitoring.drift_share:g}, score")
        assert "ThresholdMetricId" not in shift
        accuracy = alarms.get(NAMES.endpoint_alarm(model, "live-accuracy"))
        assert (accuracy is not None) == (config.task == "classification")
        if accuracy is not None:
            assert (accuracy["Namespace"], accuracy["MetricName"]) == ("sluice", "LiveAccuracy")
            assert accuracy["Dimensions"] == [{"Name": "model", "Value": model}]
            assert accuracy["Threshold"] == config.gates.min_metrics.get("accuracy", 0.8)


def test_every_release_alarm_reaches_rollback_model(synth: Synth) -> None:
    # the rollback route matches every alarm whose name starts with the endpoint alarm prefix
    (route,) = [r for r in ROUTES if r.name == "endpoint-alarm"]
    pattern = route.trigger.pattern(PatternContext(data_bucket="b", names=NAMES))  # type: ignore[union-attr]
    prefix = pattern["detail"]["alarmName"][0]["prefix"]
    composites = {c["Properties"]["AlarmName"] for c in synth.of_type("AWS::CloudWatch::CompositeAlarm").values()}
    for name in [*_alarms(synth), *composites]:
        if name.startswith(("dead-letters-", "throttles-")):  # they notify; a rollback would not help
            assert not name.startswith(prefix), name
            continue
        assert name.startswith(prefix) and NAMES.model_of_alarm(name, CONFIG.names) is not None, name


def test_one_composite_per_model_notifies_the_topic(synth: Synth) -> None:
    topics = synth.of_type("AWS::SNS::Topic")
    (topic_id,) = topics
    assert topics[topic_id]["Properties"]["TopicName"] == NAMES.notifications_topic
    composites = {c["Properties"]["AlarmName"]: c["Properties"]
                  for c in synth.of_type("AWS::CloudWatch::CompositeAlarm").values()}
    assert set(composites) == {NAMES.endpoint_alarm(model, "health") for model in CONFIG.models}
    for properties in composites.values():
        assert [synth.in_stage(action) for action in properties["AlarmActions"]] == [{"Ref": topic_id}]
        rule = json.dumps(properties["AlarmRule"])
        assert "ErrorsAlarm" in rule and "LatencyP99Alarm" in rule and "PredictionShift" in rule


def test_deploy_and_rollback_may_publish_and_deploy_may_read_release_metrics(synth: Synth) -> None:
    policies = json.dumps(synth.of_type("AWS::IAM::Policy"))
    assert "sns:Publish" in policies and "cloudwatch:GetMetricData" in policies
    variables = [fn["Properties"].get("Environment", {}).get("Variables", {})
                 for fn in synth.of_type("AWS::Lambda::Function").values()]
    assert any("SLUICE_NOTIFICATIONS_TOPIC" in env for env in variables)


def test_each_model_has_a_dashboard_whose_per_version_graphs_search_the_dimensions_lambda_publishes(
        synth: Synth) -> None:
    dashboards = synth.of_type("AWS::CloudWatch::Dashboard")
    bodies = [json.dumps(props["Properties"]["DashboardBody"]) for props in dashboards.values()]
    for model in load_config(REPO / "sluice.toml").models:
        body = next(text for text in bodies if NAMES.predict_function(model) in text)
        # Lambda publishes ExecutedVersion only together with FunctionName and Resource (the alias)
        assert "{AWS/Lambda,ExecutedVersion,FunctionName,Resource}" in body
        assert "{AWS/Lambda,FunctionName,ExecutedVersion}" not in body


def test_the_capture_table_names_features_as_the_capture_records_do(synth: Synth) -> None:
    config = load_config(REPO / "sluice.toml")
    tables = [props["Properties"]["TableInput"] for props in synth.of_type("AWS::Glue::Table").values()]
    for name, model in config.models.items():
        table = next(t for t in tables if name.replace("-", "_") in t["Name"])
        features = next(c["Type"] for c in table["StorageDescriptor"]["Columns"] if c["Name"] == "features")
        fields = [item.split(":")[0] for item in features.removeprefix("struct<").removesuffix(">").split(",")]
        assert fields == [capture_field(column.name) for column in model.contract.columns]
        assert all(re.fullmatch(r"[a-z0-9_]+", field) for field in fields)
