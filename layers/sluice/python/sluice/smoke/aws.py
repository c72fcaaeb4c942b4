"""The smoke script's target on a real AWS account: ``cdk deploy`` of a throwaway stage, boto3 for the rest.

The endpoint is called through its Function URL (alias ``live``, AWS_IAM auth) with a SigV4-signed request; the
error alarm is forced with ``SetAlarmState``; the functions' log groups are searched with ``FilterLogEvents``.
``destroy`` runs ``cdk destroy`` and then deletes what the stack retains on purpose (buckets, with every object
version, and the registry table), since a throwaway stage must leave nothing behind.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from sluice.registry import DynamoDBRegistry, RegistryStore
from sluice.settings import Settings
from sluice.wiring import FUNCTIONS

PROBLEM_PATTERN = '?AccessDenied ?AccessDeniedException ?"[ERROR]" ?"\\"level\\":\\"ERROR\\"" ?"Task timed out"'
Runner = Callable[[Sequence[str]], None]


def run_command(command: Sequence[str]) -> None:
    """Run ``command`` (cdk) in the project directory; a failure stops the smoke test."""
    subprocess.run(list(command), check=True)


def function_url_request(url: str, body: bytes, credentials: Any, region: str) -> urllib.request.Request:
    """A POST to a Function URL signed with SigV4 for service ``lambda`` (AWS_IAM auth type)."""
    signed = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(credentials, "lambda", region).add_auth(signed)
    return urllib.request.Request(url, data=body, headers=dict(signed.headers.items()), method="POST")


class AwsTarget:
    """A throwaway stage ``stage`` (prefix ``sluice-<stage>``) in the account of the current credentials."""

    def __init__(self, stage: str, *, models: Sequence[str], session: Any = None, run: Runner = run_command,
                 poll_s: float = 30.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.name = f"stage {stage} (stack Sluice-{stage})"
        self._stage = stage
        self._models = list(models)
        self._session = session or boto3.session.Session()
        self._run = run
        self._poll_s = poll_s
        self._sleep = sleep
        self._settings: Settings | None = None
        self._started_ms = 0

    def _cdk(self, verb: str, *extra: str) -> None:
        self._run(["npx", "cdk", verb, "-c", f"stage={self._stage}", *extra])

    def deploy(self) -> None:
        self._started_ms = int(time.time() * 1000)
        self._cdk("deploy", "--require-approval", "never")
        # the generated names (buckets, tables) as the functions see them
        configuration = self._client("lambda").get_function_configuration(
            FunctionName=f"sluice-{self._stage}-validate-dataset")
        self._settings = Settings.from_env(configuration["Environment"]["Variables"])

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise RuntimeError(f"{self.name} is not deployed")
        return self._settings

    def _client(self, service: str) -> Any:
        session: Any = self._session  # any service name
        return session.client(service)

    def drop(self, model: str, name: str, body: bytes) -> None:
        self._client("s3").put_object(Bucket=self.settings.data_bucket, Key=f"incoming/{model}/{name}", Body=body)

    def settle(self) -> None:
        self._sleep(self._poll_s)

    @property
    def registry(self) -> RegistryStore:
        return DynamoDBRegistry(self._client("dynamodb"), self.settings.registry_table)

    def predict(self, model: str, instances: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        function = self.settings.names.predict_function(model)
        url = self._client("lambda").get_function_url_config(FunctionName=function, Qualifier="live")["FunctionUrl"]
        endpoint = url.rstrip("/") + f"/v1/models/{model}:predict"
        body = json.dumps({"instances": instances}).encode()
        credentials = self._session.get_credentials()
        if credentials is None:
            raise RuntimeError("no AWS credentials to sign the endpoint request with")
        credentials = credentials.get_frozen_credentials()
        request = function_url_request(endpoint, body, credentials, self._session.region_name)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return int(error.code), {"error": error.read().decode(errors="replace")}

    def force_alarm(self, model: str) -> None:
        self._client("cloudwatch").set_alarm_state(
            AlarmName=self.settings.names.endpoint_alarm(model, "errors"), StateValue="ALARM",
            StateReason="sluice smoke test: set-alarm-state")

    def problems(self) -> list[str]:
        logs = self._client("logs")
        names = [f"{self.settings.prefix}-{name.replace('_', '-')}" for name, spec in FUNCTIONS.items()
                 if not spec.per_model]
        names += [self.settings.names.predict_function(model) for model in self._models]
        found = []
        for name in names:
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=f"/aws/lambda/{name}", startTime=self._started_ms, filterPattern=PROBLEM_PATTERN)
            found += [f"{name}: {event['message'].strip()[:300]}" for page in pages for event in page["events"]]
        return found

    def destroy(self) -> None:
        retained = self._stateful_resources()
        self._cdk("destroy", "--force")
        # buckets and tables the stack retains on purpose: a throwaway stage keeps nothing
        for kind, physical_id in retained:
            if kind == "AWS::S3::Bucket":
                _delete_bucket(self._client("s3"), physical_id)
            else:
                dynamodb = self._client("dynamodb")
                try:
                    dynamodb.delete_table(TableName=physical_id)
                except dynamodb.exceptions.ResourceNotFoundException:
                    continue

    def _stateful_resources(self) -> list[tuple[str, str]]:
        cloudformation = self._client("cloudformation")
        try:
            pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=f"Sluice-{self._stage}")
            return [(r["ResourceType"], r["PhysicalResourceId"]) for page in pages
                    for r in page["StackResourceSummaries"]
                    if r["ResourceType"] in ("AWS::S3::Bucket", "AWS::DynamoDB::Table") and r.get("PhysicalResourceId")]
        except cloudformation.exceptions.ClientError:  # never deployed
            return []


def _delete_bucket(s3: Any, bucket: str) -> None:
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
    except s3.exceptions.NoSuchBucket:
        return
