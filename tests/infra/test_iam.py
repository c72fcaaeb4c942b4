"""Least privilege: explicit actions only, '*' resources only for X-Ray, prefixes per function."""

from __future__ import annotations

from typing import Any

import pytest

from sluice.config import ConfigError, load_config
from sluice.naming import ResourceNames
from tests.infra.conftest import REPO, Synth, sluice_functions

NAMES = ResourceNames("sluice-dev")
MODELS = sorted(load_config(REPO / "sluice.toml").models)
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
RELEASE_METRICS = {"cloudwatch:GetMetricData"}  # no resource-level permissions exist for it (deploy_model only)
# A state machine's execution logs and traces: neither the log delivery actions nor X-Ray's have resource-level
# permissions (the state machines' roles only)
STATE_MACHINE_LOGGING = {"logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups",
                         "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries",
                         "logs:PutResourcePolicy", "logs:UpdateLogDelivery", "xray:GetSamplingRules",
                         "xray:GetSamplingTargets", *XRAY}
ECR_TOKEN = {"ecr:GetAuthorizationToken"}  # none either: a SageMaker job role's image pull (its repository only)


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _identity_statements(synth: Synth) -> list[tuple[str, dict[str, Any]]]:
    """(policy logical id, statement) for every identity policy statement in the template."""
    statements = []
    for key, policy in synth.of_type("AWS::IAM::Policy").items():
        statements += [(key, s) for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    for key, role in synth.of_type("AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            statements += [(key, s) for s in inline["PolicyDocument"]["Statement"]]
    return statements


def _statements_of_role(synth: Synth, role_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def _role_of_function(synth: Synth, function_name: str) -> str:
    (props,) = [p for p in sluice_functions(synth).values() if p["FunctionName"] == function_name]
    role_id: str = props["Role"]["Fn::GetAtt"][0]
    return role_id


def _joined(resource: Any) -> str:
    """A readable form of a resource ARN: '<LogicalId>/models/diabetes/*'."""
    if isinstance(resource, str):
        return resource
    if "Fn::GetAtt" in resource:
        return f"<{resource['Fn::GetAtt'][0]}>"
    if "Ref" in resource:  # a model stack's parameter (infra/model_stack.py)
        return f"<{resource['Ref']}>"
    if "Fn::Join" in resource:
        return "".join(_joined(part) for part in resource["Fn::Join"][1])
    return str(resource)


def _pseudo(resource: Any) -> str:
    """A joined ARN with its pseudo parameters as '<AWS::Region>'."""
    if isinstance(resource, dict) and "Fn::Join" in resource:
        return "".join(part if isinstance(part, str) else f"<{part['Ref']}>" for part in resource["Fn::Join"][1])
    return str(resource)


def test_no_identity_policy_has_a_wildcard_action(synth: Synth) -> None:
    for key, statement in _identity_statements(synth):
        for action in _listify(statement.get("Action", [])):
            assert "*" not in action, (key, action)
        assert "NotAction" not in statement


def test_only_xray_is_granted_on_every_resource(synth: Synth) -> None:
    for key, statement in _identity_statements(synth):
        if "*" in _listify(statement["Resource"]):
            actions = set(_listify(statement["Action"]))
            if key.startswith("StateMachines"):
                assert actions <= STATE_MACHINE_LOGGING, key
                continue
            assert actions <= XRAY | RELEASE_METRICS | ECR_TOKEN, key
            assert not actions & RELEASE_METRICS or "DeployModel" in key, key
            assert not actions & ECR_TOKEN or key.startswith("TrainingJobs"), key


def test_no_role_uses_managed_policies(synth: Synth) -> None:
    for key, role in synth.of_type("AWS::IAM::Role").items():
        assert not role["Properties"].get("ManagedPolicyArns"), key


def test_predict_reads_only_its_own_model_artifacts(synth: Synth) -> None:
    for model in MODELS:
        statements = _statements_of_role(synth, _role_of_function(synth, NAMES.predict_function(model)))
        s3 = [s for s in statements if any(a.startswith("s3:") for a in _listify(s["Action"]))]
        objects = [s for s in s3 if s["Action"] == "s3:GetObject"]
        assert [_joined(s["Resource"]).split(">", 1)[1] for s in objects] == [f"/models/{model}/*"]
        assert {a for s in s3 for a in _listify(s["Action"])} == {"s3:GetObject", "s3:ListBucket"}
        actions = {a for s in statements for a in _listify(s["Action"])}
        assert not [a for a in actions if a.split(":")[0] in ("events", "lambda")]
        # the registry: single items only (the shadow release's record and sha256)
        assert {a for a in actions if a.startswith("dynamodb:")} == {"dynamodb:GetItem"}
        # and no X-Ray: predictions are traced only where [serving] trace = true (none in sluice.toml)
        assert not actions & XRAY


def _dynamodb_actions(synth: Synth, function_name: str) -> dict[str, set[str]]:
    """Table logical id → the DynamoDB actions the function's role has on it."""
    found: dict[str, set[str]] = {}
    for statement in _statements_of_role(synth, _role_of_function(synth, function_name)):
        actions = {a for a in _listify(statement["Action"]) if a.startswith("dynamodb:")}
        for resource in _listify(statement["Resource"]) if actions else []:
            found.setdefault(_joined(resource).strip("<>"), set()).update(actions)
    return found


def test_registry_grants_are_per_function_and_no_role_may_scan(synth: Synth) -> None:
    (registry,) = [key for key in synth.of_type("AWS::DynamoDB::Table") if "Registry" in key]
    (idempotency,) = [key for key in synth.of_type("AWS::DynamoDB::Table") if "Idempotency" in key]
    reads = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"}
    writes = reads | {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    for function in ("validate-dataset", "train-model", "evaluate-model", "detect-drift", "record-feedback",
                     "deploy-model", "rollback-model"):
        granted = _dynamodb_actions(synth, f"sluice-dev-{function}")
        # only the release steps delete registry items (the deploy lock, release records, the previous alias);
        # drift detection only reads (the live alias)
        deletes = {"dynamodb:DeleteItem"} if function in ("deploy-model", "rollback-model") else set()
        assert granted[registry] == (reads if function == "detect-drift" else writes | deletes), function
        assert granted[idempotency] == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                        "dynamodb:DeleteItem"}, function
    for _key, statement in _identity_statements(synth):
        assert not {"dynamodb:Scan", "dynamodb:BatchWriteItem"} & set(_listify(statement["Action"]))


def test_the_endpoint_roles_may_repin_predict_but_not_change_its_layers(synth: Synth) -> None:
    for function in ("deploy-model", "rollback-model"):
        statements = _statements_of_role(synth, _role_of_function(synth, f"sluice-dev-{function}"))
        (repin,) = [s for s in statements if "lambda:UpdateFunctionConfiguration" in _listify(s["Action"])]
        assert _listify(repin["Action"]) == ["lambda:UpdateFunctionConfiguration"]
        assert repin["Condition"] == {"Null": {"lambda:Layer": "true", "lambda:VpcIds": "true"}}
        # the stage's predict functions by name pattern (one ARN whatever the model count; the configuration it
        # changes belongs to $LATEST, so the versions the pattern also matches cannot be changed through it)
        pattern = f"arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:{NAMES.prefix}-predict-*"
        assert [_pseudo(r) for r in _listify(repin["Resource"])] == [pattern]


def test_endpoint_control_is_limited_to_the_predict_functions(synth: Synth) -> None:
    # one ARN for every predict function of the stage, their versions and aliases: a list would outgrow IAM's
    # inline policy size with the models (tests/infra/test_limits.py)
    predict_functions = f"arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:{NAMES.prefix}-predict-*"
    assert all(NAMES.predict_function(model).startswith(f"{NAMES.prefix}-predict-") for model in MODELS)
    predict_ids = {
        key for key, props in synth.of_type("AWS::Lambda::Function").items()
        if props["Properties"].get("FunctionName") in {NAMES.predict_function(m) for m in MODELS}
    }
    for key, statement in _identity_statements(synth):
        if key.startswith("StateMachines"):  # a state machine invokes its task function, nothing else
            assert _listify(statement["Action"]) in (["lambda:InvokeFunction"], ) or not any(
                action.startswith("lambda:") for action in _listify(statement["Action"])), key
            continue
        if any(a.startswith("lambda:") for a in _listify(statement["Action"])):
            for resource in _listify(statement["Resource"]):
                # the pattern (deploy, rollback), or one predict function (the provider that creates alias live)
                assert _pseudo(resource) == predict_functions or resource["Fn::GetAtt"][0] in predict_ids, resource
    # and only deploy_model and rollback_model may move an alias
    services = set()
    for props in sluice_functions(synth).values():
        role_id = props["Role"]["Fn::GetAtt"][0]
        if any("lambda:UpdateAlias" in _listify(s["Action"]) for s in _statements_of_role(synth, role_id)):
            services.add(props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"])
    assert services == {"deploy_model", "rollback_model"}


def test_event_triggered_functions_put_events_only_on_the_sluice_bus(synth: Synth) -> None:
    (bus_id,) = synth.of_type("AWS::Events::EventBus")
    for _key, statement in _identity_statements(synth):
        if "events:PutEvents" in _listify(statement["Action"]):
            assert statement["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]}


def test_prediction_tracing_is_an_opt_in_of_the_serving_table(tmp_path: Any) -> None:
    # GIVEN the project's configuration, and a copy where diabetes asks for traced predictions
    text = (REPO / "sluice.toml").read_text()
    traced = tmp_path / "sluice.toml"
    traced.write_text(text + "\n[models.diabetes.serving]\ntrace = true\n" if "[models.diabetes.serving]" not in text
                      else text.replace("[models.diabetes.serving]\n", "[models.diabetes.serving]\ntrace = true\n"))
    # THEN tracing is off unless asked for, and a non-boolean is refused by the strict reader
    assert not any(model.serving.trace for model in load_config(REPO / "sluice.toml").models.values())
    assert load_config(traced).model("diabetes").serving.trace is True
    traced.write_text(traced.read_text().replace("trace = true", 'trace = "yes"'))
    with pytest.raises(ConfigError, match="trace"):
        load_config(traced)


def test_capture_delivery_roles_trust_only_this_accounts_firehose(synth: Synth) -> None:
    # Firehose's documented confused-deputy guard: sts:ExternalId is the account that owns the stream
    roles = [role["Properties"] for role in synth.of_type("AWS::IAM::Role").values()
             if "firehose.amazonaws.com" in str(role["Properties"]["AssumeRolePolicyDocument"])]
    assert len(roles) == len(MODELS)
    for role in roles:
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "AWS::AccountId"}}}
