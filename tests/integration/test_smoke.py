"""`make smoke`'s script: run whole against the local stack (IAM enforced), its failures reported with the stack
torn down, its AWS side (skip without credentials, SigV4 on the Function URL, a throwaway stage, the cleanup of
what the stack retains) checked where it does not need an account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials
from moto import mock_aws

from infra.stages import StageError, stage_named
from sluice.demo import samples
from sluice.smoke.__main__ import main
from sluice.smoke.aws import AwsTarget, function_url_request
from sluice.smoke.local import LocalTarget
from sluice.smoke.script import SmokePlan, run_smoke
from tests.conftest import REPO
from tests.infra.synthesized import dev_template, without_action
from tests.reliability.harness import fast_config

PLAN = SmokePlan(model="diabetes", data=samples.DIABETES, target_column="progression", polls=3)


@pytest.mark.slow
def test_the_smoke_script_passes_against_the_local_stack_with_iam_enforced(tmp_path: Path) -> None:
    # GIVEN the local stack, each function holding only its role's statements
    target = LocalTarget(fast_config(tmp_path / "sluice.toml"), functions_dir=REPO / "functions",
                         iam_template=dev_template())
    # WHEN the smoke script runs against it
    report = run_smoke(target, PLAN)
    # THEN every step passed, in order, and the stack was torn down
    assert report.ok, report.lines()
    assert [step for step, _ in report.steps] == ["deploy", "drop → live", "predict", "second drop",
                                                  "alarm → rollback", "logs", "destroy"]
    assert target.cloud.iam is None  # stopped


def test_a_failing_step_is_reported_and_the_stack_still_destroyed(tmp_path: Path) -> None:
    # GIVEN a stack whose validate_dataset cannot announce accepted data
    template = without_action(dev_template(), "validate_dataset", "events:PutEvents")
    target = LocalTarget(fast_config(tmp_path / "sluice.toml"), functions_dir=REPO / "functions",
                         iam_template=template)
    # WHEN the smoke script runs
    report = run_smoke(target, PLAN)
    # THEN it fails at the first wait, names it, and still destroys the stack
    assert not report.ok and report.failure.startswith("version 1 live: not reached")
    assert [step for step, _ in report.steps] == ["deploy", "destroy"]
    assert report.lines()[-1].startswith("FAIL version 1 live")


def test_without_aws_credentials_the_smoke_test_skips_in_one_line(monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    # GIVEN no credentials anywhere boto3 looks (environment, files, instance metadata)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    # WHEN `make smoke` runs
    code = main(["--stage", "xabc", "--config", str(REPO / "sluice.toml")])
    # THEN it says why in one line and succeeds (nothing to test without an account)
    out = capsys.readouterr().out
    assert code == 0 and out.count("\n") == 1 and out.startswith("smoke: skipped — no AWS credentials")


def test_only_a_throwaway_stage_can_be_smoke_tested() -> None:
    # a real stage is refused by the script; a throwaway one is dev under its own name, within the prefix limit
    assert main(["--stage", "prod"]) == 2
    stage = stage_named("xabc")
    assert stage.name == "xabc" and stage.retention == stage_named("dev").retention
    assert len(stage.prefix) <= len(stage_named("prod").prefix)
    with pytest.raises(StageError):
        stage_named("xabcd")


def test_the_endpoint_request_is_signed_with_sigv4_for_lambda() -> None:
    # GIVEN credentials and a Function URL
    url = "https://abc.lambda-url.eu-west-1.on.aws/v1/models/diabetes:predict"
    request = function_url_request(url, b'{"instances": []}', Credentials("AKIDEXAMPLE", "secret"), "eu-west-1")
    # THEN it is a POST carrying a SigV4 Authorization for service lambda in that region (Function URL AWS_IAM)
    authorization = request.get_header("Authorization")
    assert request.get_method() == "POST" and request.full_url == url
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/lambda/aws4_request" in authorization
    assert request.get_header("X-amz-date") and request.get_header("X-amz-content-sha256") is None


@mock_aws
def test_destroy_runs_cdk_destroy_and_removes_what_the_stack_retains(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a deployed throwaway stack holding a versioned bucket with objects and a table (retained by design)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    cloudformation = boto3.client("cloudformation")
    template = {"Resources": {"Data": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain",
                                       "Properties": {"BucketName": "sluice-xabc-data"}},
                              "Registry": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": {
                                  "TableName": "sluice-xabc-registry", "BillingMode": "PAY_PER_REQUEST",
                                  "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                                  "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}}}}
    cloudformation.create_stack(StackName="Sluice-xabc", TemplateBody=json.dumps(template))
    s3 = boto3.client("s3")
    s3.put_bucket_versioning(Bucket="sluice-xabc-data", VersioningConfiguration={"Status": "Enabled"})
    for body in (b"1", b"2"):
        s3.put_object(Bucket="sluice-xabc-data", Key="incoming/diabetes/a.csv", Body=body)
    commands: list[list[str]] = []

    def run(command: Any) -> None:
        commands.append(list(command))
        cloudformation.delete_stack(StackName="Sluice-xabc")

    # WHEN the target is destroyed
    AwsTarget("xabc", models=["diabetes"], session=boto3.session.Session(), run=run).destroy()
    # THEN cdk destroyed the stage, and the retained bucket (every version) and table are gone too
    assert commands == [["npx", "cdk", "destroy", "-c", "stage=xabc", "--force"]]
    assert "sluice-xabc-data" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "sluice-xabc-registry" not in boto3.client("dynamodb").list_tables()["TableNames"]
