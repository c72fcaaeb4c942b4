"""The endpoint: CloudFormation never owns alias live; Function URLs need IAM; alarms watch live."""

from __future__ import annotations

import json

from sluice.config import load_config
from sluice.naming import LIVE_ALIAS, ResourceNames
from sluice.wiring.alarms import MIN_REQUESTS
from tests.infra.conftest import REPO, Synth

NAMES = ResourceNames("sluice-dev")
MODELS = sorted(load_config(REPO / "sluice.toml").models)


def _predict_ids(synth: Synth) -> dict[str, str]:
    """model → logical id of its predict function."""
    by_name = {
        props["Properties"].get("FunctionName"): key for key, props in synth.of_type("AWS::Lambda::Function").items()
    }
    return {model: by_name[NAMES.predict_function(model)] for model in MODELS}


def test_cloudformation_declares_no_alias(synth: Synth) -> None:
    assert synth.of_type("AWS::Lambda::Alias") == {}


def test_live_is_only_created_when_missing_never_updated_or_deleted(synth: Synth) -> None:
    creators = synth.of_type("Custom::SluiceLiveAlias")
    assert len(creators) == len(MODELS)
    created_for = set()
    for creator in creators.values():
        props = creator["Properties"]
        assert "Update" not in props and "Delete" not in props
        parts = props["Create"]["Fn::Join"][1]
        call = json.loads("".join(part if isinstance(part, str) else "<ref>" for part in parts))
        assert call["service"] == "Lambda" and call["action"] == "createAlias"
        assert call["parameters"]["Name"] == LIVE_ALIAS
        assert call["parameters"]["FunctionVersion"] == "$LATEST"
        assert call["ignoreErrorCodesMatching"] == "ResourceConflictException"
        created_for.add(next(part["Ref"] for part in parts if isinstance(part, dict)))
    assert created_for == set(_predict_ids(synth).values())


def test_function_urls_require_iam_on_alias_live(synth: Synth) -> None:
    urls = synth.of_type("AWS::Lambda::Url")
    assert {url["Properties"]["TargetFunctionArn"]["Fn::GetAtt"][0] for url in urls.values()} == set(
        _predict_ids(synth).values()
    )
    for key, url in urls.items():
        assert url["Properties"]["AuthType"] == "AWS_IAM"
        assert url["Properties"]["Qualifier"] == LIVE_ALIAS
        assert "Cors" not in url["Properties"]
        assert any(dep in synth.of_type("Custom::SluiceLiveAlias") for dep in url.get("DependsOn", [])), key
    assert not [
        p for p in synth.of_type("AWS::Lambda::Permission").values() if p["Properties"].get("FunctionUrlAuthType")
    ]


def test_one_url_output_per_model(synth: Synth) -> None:
    outputs = synth.template.to_json()["Outputs"]
    url_ids = set(synth.of_type("AWS::Lambda::Url"))
    pointed = {synth.output_value(output["Value"]).get("Fn::GetAtt", [""])[0] for output in outputs.values()} & url_ids
    assert pointed == url_ids


def test_each_model_has_errors_and_latency_alarms_on_live(synth: Synth) -> None:
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in synth.of_type("AWS::CloudWatch::Alarm").values()}
    # (the release alarms — prediction shift, live accuracy — are asserted in test_release_alarms.py)
    assert set(alarms) >= {NAMES.endpoint_alarm(m, kind) for m in MODELS for kind in ("errors", "latency-p99")}
    for model in MODELS:
        function = NAMES.predict_function(model)
        dimensions = [
            {"Name": "FunctionName", "Value": function},
            {"Name": "Resource", "Value": f"{function}:{LIVE_ALIAS}"},
        ]
        errors = alarms[NAMES.endpoint_alarm(model, "errors")]
        latency = alarms[NAMES.endpoint_alarm(model, "latency-p99")]
        # the errors alarm is a rate: Errors / Invocations of live, only over periods with enough requests
        queries = {query["Id"]: query for query in errors["Metrics"]}
        (expression,) = [query["Expression"] for query in queries.values() if "Expression" in query]
        assert f"invocations >= {MIN_REQUESTS}" in expression and "/ invocations" in expression
        for query_id, metric_name in (("errors", "Errors"), ("invocations", "Invocations")):
            stat = queries[query_id]["MetricStat"]
            assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Stat"]) == (
                "AWS/Lambda", metric_name, "Sum")
            assert stat["Metric"]["Dimensions"] == dimensions
        assert (latency["MetricName"], latency["ExtendedStatistic"]) == ("Duration", "p99")
        assert latency["Dimensions"] == dimensions
        for alarm in (errors, latency):
            assert alarm["TreatMissingData"] == "notBreaching"
            # the rollback rule matches these names
            assert NAMES.model_of_alarm(alarm["AlarmName"], tuple(MODELS)) == model
            assert alarm["AlarmName"].startswith(NAMES.endpoint_alarm_prefix)
