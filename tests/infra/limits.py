"""AWS's limits on a synthesized stage, and how big a template's values can get once CloudFormation resolves them.

A template holds references (Ref, Fn::GetAtt, Fn::Join...) where AWS later puts names and ARNs; the sizes IAM,
Lambda and SQS limit are those of the resolved values. ``bounded`` replaces every reference by the longest
value it can take (``REFERENCE_BOUND`` for a generated name or ARN), so a size measured here bounds the real one.
Sources: CloudFormation quotas (AWSCloudFormation/latest/UserGuide/cloudformation-limits.html), IAM quotas
(IAM/latest/UserGuide/reference_iam-quotas.html), Lambda quotas (lambda/latest/dg/gettingstarted-limits.html),
EventBridge quotas (eventbridge/latest/userguide/eb-quota.html), SQS policy quotas
(AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-policies.html), CloudWatch composite alarms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STACK_RESOURCES = 500
STACK_OUTPUTS = 200
STACK_PARAMETERS = 200
TEMPLATE_BYTES_VIA_S3 = 1_048_576  # cdk deploy uploads every template to the bootstrap bucket
STACK_DESCRIPTION_BYTES = 1_024
ROLE_INLINE_POLICY_CHARS = 10_240  # aggregate of a role's inline policies, whitespace excluded
MANAGED_POLICY_CHARS = 6_144
MANAGED_POLICIES_PER_ROLE = 10
ROLE_TRUST_POLICY_CHARS = 2_048
LAMBDA_RESOURCE_POLICY_BYTES = 20_480
LAMBDA_ENV_BYTES = 4_096
LAMBDA_LAYERS = 5
RULE_TARGETS = 5
RULES_PER_BUS = 300
QUEUE_POLICY_STATEMENTS = 20
COMPOSITE_ALARM_RULE_CHARS = 10_240
NAME_LIMITS: dict[tuple[str, str], int] = {
    ("AWS::Lambda::Function", "FunctionName"): 64,
    ("AWS::Events::Rule", "Name"): 64,
    ("AWS::KinesisFirehose::DeliveryStream", "DeliveryStreamName"): 64,
    ("AWS::CloudWatch::Alarm", "AlarmName"): 255,
    ("AWS::CloudWatch::CompositeAlarm", "AlarmName"): 255,
    ("AWS::CloudWatch::Dashboard", "DashboardName"): 255,
    ("AWS::Logs::LogGroup", "LogGroupName"): 512,
    ("AWS::Events::EventBus", "Name"): 256,
    ("AWS::SNS::Topic", "TopicName"): 256,
}

# The longest value of each pseudo parameter, and of any other reference: a generated physical name (at most
# 64 characters for the longest of them, a Lambda function) inside the longest ARN prefix
# ("arn:aws-us-gov:dynamodb:ap-southeast-4:123456789012:table/" is 59).
PSEUDO_BOUNDS = {"AWS::Partition": 10, "AWS::Region": 14, "AWS::AccountId": 12, "AWS::URLSuffix": 16}
REFERENCE_BOUND = 128


def bounded(value: Any) -> Any:
    """``value`` with every intrinsic function replaced by a string as long as its longest resolved value."""
    if isinstance(value, list):
        return [bounded(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, argument), = value.items()
        if key == "Ref":
            return "x" * PSEUDO_BOUNDS.get(argument, REFERENCE_BOUND)
        if key == "Fn::Join":
            separator, parts = argument
            return separator.join(str(bounded(part)) for part in parts)
        if key == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            return re.sub(r"\$\{([^}]+)\}", lambda m: "x" * PSEUDO_BOUNDS.get(m.group(1), REFERENCE_BOUND), text)
        if key.startswith("Fn::"):
            return "x" * REFERENCE_BOUND
    return {key: bounded(item) for key, item in value.items()}


def size(value: Any) -> int:
    """Characters of ``value`` as JSON without whitespace, references at their longest."""
    return len(json.dumps(bounded(value), separators=(",", ":")))


@dataclass(frozen=True)
class Template:
    """One template of a cloud assembly: the stage's stack or a nested model stack."""

    name: str
    body: dict[str, Any]
    bytes: int

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.body["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in self.resources.items() if value["Type"] == resource_type}


def read_assembly(outdir: Path) -> list[Template]:
    """Every template CDK wrote to ``outdir`` (the stage's stack and its nested stacks)."""
    return [Template(path.name, json.loads(path.read_text()), path.stat().st_size)
            for path in sorted(outdir.glob("*.template.json"))]


def properties(resource: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = resource.get("Properties", {})
    return found


def role_inline_policies(template: Template) -> Iterator[tuple[str, int]]:
    """(role, aggregate size of its inline policies) for every role of ``template``."""
    totals = {key: sum(size(policy["PolicyDocument"]) for policy in properties(role).get("Policies", []))
              for key, role in template.of_type("AWS::IAM::Role").items()}
    for policy in template.of_type("AWS::IAM::Policy").values():
        for role in properties(policy).get("Roles", []):
            if isinstance(role, dict) and role.get("Ref") in totals:
                totals[role["Ref"]] += size(properties(policy)["PolicyDocument"])
    yield from totals.items()


def lambda_resource_policies(template: Template) -> Iterator[tuple[str, int]]:
    """(function, bound of its resource-based policy) from the template's AWS::Lambda::Permission resources.

    A permission becomes one statement: its properties plus the statement's fixed keys (Sid, Effect, Principal,
    Action, Resource, Condition: 200 characters at most besides the values)."""
    totals: dict[str, int] = {}
    for permission in template.of_type("AWS::Lambda::Permission").values():
        function = json.dumps(properties(permission)["FunctionName"], sort_keys=True)
        totals[function] = totals.get(function, 0) + size(properties(permission)) + 200
    yield from totals.items()


def environment_size(function: dict[str, Any]) -> int:
    """Bytes of a function's environment variables, keys and values (Lambda's 4 KB counts both)."""
    variables = properties(function).get("Environment", {}).get("Variables", {})
    return sum(len(key) + len(str(bounded(value))) for key, value in variables.items())
