"""The local IAM evaluator and the call → authorization table, pinned to what AWS documents.

Sources: IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements: Condition operators"; Service
Authorization Reference pages for Amazon S3, DynamoDB, Lambda and CloudWatch; Amazon S3 API Reference, HeadObject
("If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403").
"""

from __future__ import annotations

from typing import Any

import pytest

from sluice.local.iam_actions import UnknownCallError, requests_for
from sluice.local.iam_policy import AuthRequest, Effect, UnsupportedPolicyError, evaluate
from sluice.local.iam_template import TemplateError, function_policies

BUCKET = "arn:aws:s3:::data"
PREFIX_LIST = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET,
               "Condition": {"StringLike": {"s3:prefix": ["incoming/*"]}}}
READ = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/incoming/*"}


def test_an_allow_needs_action_resource_and_conditions_to_match() -> None:
    # GIVEN a read grant on incoming/ and a listing grant conditioned on the prefix
    statements = [READ, PREFIX_LIST]
    # THEN reads under the prefix are allowed, elsewhere implicitly denied
    assert evaluate(statements, AuthRequest("s3:GetObject", f"{BUCKET}/incoming/a.csv")) is Effect.ALLOWED
    assert evaluate(statements, AuthRequest("s3:GetObject", f"{BUCKET}/accepted/a")) is Effect.IMPLICIT_DENY
    assert evaluate(statements, AuthRequest("s3:PutObject", f"{BUCKET}/incoming/a")) is Effect.IMPLICIT_DENY
    # AND a listing is allowed only when the request carries a matching s3:prefix
    assert evaluate(statements, AuthRequest("s3:ListBucket", BUCKET, {"s3:prefix": "incoming/m/x"})) \
        is Effect.ALLOWED
    assert evaluate(statements, AuthRequest("s3:ListBucket", BUCKET, {"s3:prefix": "accepted/"})) \
        is Effect.IMPLICIT_DENY
    # AND a request without the key fails the condition (what makes S3 answer 403 for a missing key)
    assert evaluate(statements, AuthRequest("s3:ListBucket", BUCKET)) is Effect.IMPLICIT_DENY


def test_an_explicit_deny_wins_and_actions_are_case_insensitive() -> None:
    statements = [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
                  {"Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"}]
    assert evaluate(statements, AuthRequest("DynamoDB:getitem", "arn:aws:dynamodb:r:a:table/t")) is Effect.ALLOWED
    assert evaluate(statements, AuthRequest("dynamodb:Scan", "arn:aws:dynamodb:r:a:table/t")) is Effect.EXPLICIT_DENY


def test_if_exists_passes_without_the_key_and_unknown_operators_are_refused() -> None:
    conditioned = {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*",
                   "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}}}
    assert evaluate([conditioned], AuthRequest("sns:Publish", "arn:t")) is Effect.ALLOWED
    assert evaluate([conditioned], AuthRequest("sns:Publish", "arn:t", {"aws:SourceAccount": "9"})) \
        is Effect.IMPLICIT_DENY
    odd = {**conditioned, "Condition": {"NumericLessThan": {"s3:max-keys": "10"}}}
    with pytest.raises(UnsupportedPolicyError):
        evaluate([odd], AuthRequest("sns:Publish", "arn:t"))


def test_calls_map_to_the_actions_iam_authorizes() -> None:
    # HeadObject is authorized as s3:GetObject; a listing as s3:ListBucket on the bucket with s3:prefix
    assert requests_for("s3", "HeadObject", {"Bucket": "data", "Key": "k"}) == [
        AuthRequest("s3:GetObject", "arn:aws:s3:::data/k")]
    assert requests_for("s3", "ListObjectsV2", {"Bucket": "data", "Prefix": "p/"}) == [
        AuthRequest("s3:ListBucket", "arn:aws:s3:::data", {"s3:prefix": "p/"})]
    # a copy reads its source and writes its target
    copy = requests_for("s3", "CopyObject", {"Bucket": "data", "Key": "rejected/x",
                                             "CopySource": {"Bucket": "data", "Key": "incoming/x"}})
    assert [(r.action, r.resource) for r in copy] == [("s3:GetObject", "arn:aws:s3:::data/incoming/x"),
                                                     ("s3:PutObject", "arn:aws:s3:::data/rejected/x")]
    # a DynamoDB transaction is authorized item by item
    transaction = requests_for("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "reg"}}, {"Update": {"TableName": "reg"}}, {"ConditionCheck": {"TableName": "reg"}}]})
    assert [r.action for r in transaction] == ["dynamodb:PutItem", "dynamodb:UpdateItem",
                                                "dynamodb:ConditionCheckItem"]
    # a Lambda call with a qualifier acts on the qualified ARN
    (qualified,) = requests_for("lambda", "GetFunctionConfiguration", {"FunctionName": "f", "Qualifier": "3"})
    assert qualified.resource.endswith(":function:f:3")
    # reading an execution's status is authorized on the execution
    execution = "arn:aws:states:us-east-1:123456789012:execution:sluice-dev-score-parts:n1"
    assert requests_for("stepfunctions", "DescribeExecution", {"executionArn": execution}) == [
        AuthRequest("states:DescribeExecution", execution)]
    # PutMetricData has no resource, only the namespace condition key
    (metrics,) = requests_for("cloudwatch", "PutMetricData", {"Namespace": "sluice"})
    assert metrics == AuthRequest("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "sluice"})


def test_a_call_the_table_does_not_know_is_refused_not_ignored() -> None:
    with pytest.raises(UnknownCallError):
        requests_for("s3", "PutBucketPolicy", {"Bucket": "data"})
    with pytest.raises(UnknownCallError):
        requests_for("kinesis", "PutRecord", {})


def test_template_policies_resolve_to_the_local_stack_names() -> None:
    # GIVEN a function whose role grants its bucket (named by Ref in its environment) and a named stream
    template = {"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Stream": {"Type": "AWS::KinesisFirehose::DeliveryStream",
                   "Properties": {"DeliveryStreamName": "sluice-dev-capture-m"}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}], "PolicyDocument": {
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject",
                 "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/models/m/*"]]}},
                {"Effect": "Allow", "Action": "firehose:PutRecordBatch",
                 "Resource": {"Fn::Sub": "arn:${AWS::Partition}:firehose:${AWS::Region}:${AWS::AccountId}:"
                                         "deliverystream/sluice-dev-capture-m"}}]}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "sluice-dev-predict-m", "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Environment": {"Variables": {"SLUICE_PREFIX": "sluice-dev", "SLUICE_DATA_BUCKET": {"Ref": "Bucket"},
                                          "POWERTOOLS_SERVICE_NAME": "predict", "SLUICE_MODEL": "m"}}}},
    }}
    # WHEN it is resolved for a local stack with prefix "local"
    policies = function_policies(template, local_env={"SLUICE_DATA_BUCKET": "local-data"}, local_prefix="local")
    # THEN the bucket has its local name and the template's stage prefix became the local one
    policy = policies["predict:m"]
    assert policy.function_name == "local-predict-m"
    assert [s["Resource"] for s in policy.statements] == [
        "arn:aws:s3:::local-data/models/m/*",
        "arn:aws:firehose:us-east-1:123456789012:deliverystream/local-capture-m"]
    # AND a name cut out of an ARN (Fn::Select of Fn::Split, as CDK writes a state machine's executions) resolves
    template["Resources"]["Machine"] = {"Type": "AWS::StepFunctions::StateMachine",
                                        "Properties": {"StateMachineName": "sluice-dev-score-parts"}}
    template["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "states:DescribeExecution", "Resource": {"Fn::Join": ["", [
            "arn:", {"Ref": "AWS::Partition"}, ":states:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
            ":execution:", {"Fn::Select": [6, {"Fn::Split": [":", {"Ref": "Machine"}]}]}, ":*"]]}})
    resolved = function_policies(template, local_env={"SLUICE_DATA_BUCKET": "local-data"}, local_prefix="local")
    assert resolved["predict:m"].statements[-1]["Resource"] == (
        "arn:aws:states:us-east-1:123456789012:execution:local-score-parts:*")
    template["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Statement"][-1]["Resource"] = {
        "Fn::Select": [9, {"Fn::Split": [":", {"Ref": "Machine"}]}]}
    with pytest.raises(TemplateError):
        function_policies(template, local_env={"SLUICE_DATA_BUCKET": "local-data"}, local_prefix="local")
    del template["Resources"]["Machine"]
    template["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Statement"].pop()
    # AND a managed policy (whose document the template does not hold) is refused
    template["Resources"]["Role"]["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/Admin"]
    with pytest.raises(TemplateError):
        function_policies(template, local_env={}, local_prefix="local")


def test_a_null_condition_allows_only_requests_without_the_key() -> None:
    # GIVEN UpdateFunctionConfiguration allowed only without layers (as the endpoint roles have it)
    statement = {"Effect": "Allow", "Action": "lambda:UpdateFunctionConfiguration", "Resource": "arn:f",
                 "Condition": {"Null": {"lambda:Layer": "true"}}}
    (repin,) = requests_for("lambda", "UpdateFunctionConfiguration",
                            {"FunctionName": "arn:f", "Environment": {"Variables": {}}})
    (relayer,) = requests_for("lambda", "UpdateFunctionConfiguration",
                              {"FunctionName": "arn:f", "Layers": ["arn:aws:lambda:r:a:layer:x:1"]})
    # THEN re-pinning the environment is allowed and changing the layers is not
    assert evaluate([statement], repin) is Effect.ALLOWED
    assert evaluate([statement], relayer) is Effect.IMPLICIT_DENY


def test_the_local_mode_signs_each_function_with_its_own_key_and_refuses_what_its_role_lacks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    from sluice.local.iam import LocalIam
    from sluice.local.iam_template import FunctionPolicy

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    with mock_aws():
        # GIVEN a function whose role reads incoming/ and lists under it, and a bucket with one object there
        boto3.client("s3").create_bucket(Bucket="data")
        boto3.client("s3").put_object(Bucket="data", Key="incoming/a.csv", Body=b"x")
        local = LocalIam({"f": FunctionPolicy("f", None, "f", (READ, PREFIX_LIST))}, prefix="t")
        local.provision(boto3.client("iam"))
        local.start()
        try:
            env = local.env("f")
            s3 = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                       aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]).client("s3")
            # THEN what the role allows works
            assert s3.get_object(Bucket="data", Key="incoming/a.csv")["Body"].read() == b"x"
            assert s3.list_objects_v2(Bucket="data", Prefix="incoming/")["KeyCount"] == 1

            def code(call: Any) -> str:
                with pytest.raises(ClientError) as refused:
                    call()
                return str(refused.value.response["Error"]["Code"])

            # AND a write, a listing outside the prefix and a missing key (403, not 404) are refused
            assert code(lambda: s3.put_object(Bucket="data", Key="incoming/b.csv", Body=b"y")) == "AccessDenied"
            assert code(lambda: s3.list_objects_v2(Bucket="data", Prefix="accepted/")) == "AccessDenied"
            assert code(lambda: s3.head_object(Bucket="data", Key="incoming/missing.csv")) == "403"
            # AND moto's own authorization is on: a key no user owns is refused before any policy is read
            stranger = boto3.session.Session(aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                                             aws_secret_access_key="nope").client("s3")
            assert code(lambda: stranger.get_object(Bucket="data", Key="incoming/a.csv")) == "InvalidAccessKeyId"
        finally:
            local.stop()
    assert [check.request.action for check in local.denials] == ["s3:PutObject", "s3:ListBucket", "s3:ListBucket"]
