"""Each function's identity policy, read from the synthesized CloudFormation template and resolved to the names of
a local stack.

A function's statements are those of every ``AWS::IAM::Policy`` attached to its role plus the role's inline
policies (sluice attaches no managed policies; one found is refused, since its document is not in the template).
``Ref``/``Fn::GetAtt``/``Fn::Join``/``Fn::Sub`` are resolved the way CloudFormation resolves them, with physical
names taken from the local stack: a bucket, table, bus or topic the template names by ``Ref`` in a function's
environment gets the value the local stack puts in that same variable; a resource with an explicit name keeps it,
with the template's stage prefix replaced by the local prefix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sluice.local.iam_actions import Place

PREDICT = "predict"
SERVICE_VARIABLE = "POWERTOOLS_SERVICE_NAME"
MODEL_VARIABLE = "SLUICE_MODEL"
_NAME_PROPERTIES = {
    "AWS::Lambda::Function": "FunctionName", "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::SQS::Queue": "QueueName", "AWS::Logs::LogGroup": "LogGroupName", "AWS::SNS::Topic": "TopicName",
    "AWS::Events::EventBus": "Name", "AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName",
    "AWS::CloudWatch::Alarm": "AlarmName", "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::IAM::Role": "RoleName",
}
_REF_IS_ARN = frozenset({"AWS::StepFunctions::StateMachine"})  # CloudFormation's Ref of these returns the ARN


class TemplateError(ValueError):
    """The template holds something this resolver cannot turn into a local policy."""


@dataclass(frozen=True)
class FunctionPolicy:
    """One deployed function (``predict`` once per model) and its resolved identity-policy statements."""

    function: str
    model: str | None
    function_name: str
    statements: tuple[dict[str, Any], ...]

    @property
    def principal(self) -> str:
        """The function as it is known locally: its spec name, or ``predict:<model>``."""
        return f"{PREDICT}:{self.model}" if self.model else self.function


def function_policies(template: Mapping[str, Any], *, local_env: Mapping[str, str], local_prefix: str,
                      place: Place | None = None) -> dict[str, FunctionPolicy]:
    """Every sluice function's resolved policy, keyed by ``FunctionPolicy.principal``."""
    resources: Mapping[str, Any] = template["Resources"]
    template_prefix = template_stage_prefix(template)
    resolver = _Resolver(resources, place or Place(), template_prefix, local_prefix)
    resolver.learn_names(local_env)
    policies = {}
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        variables = (props.get("Environment") or {}).get("Variables") or {}
        if resource["Type"] != "AWS::Lambda::Function" or SERVICE_VARIABLE not in variables:
            continue
        if "SLUICE_PREFIX" not in variables:
            continue
        role_id = props["Role"]["Fn::GetAtt"][0]
        statements = tuple(resolver.resolve(s) for s in _role_statements(resources, role_id))
        function = str(variables[SERVICE_VARIABLE])
        model = variables.get(MODEL_VARIABLE) if function == PREDICT else None
        name = resolver.local_name(logical_id)
        policy = FunctionPolicy(function, str(model) if model else None, name, statements)
        policies[policy.principal] = policy
    return policies


def template_stage_prefix(template: Mapping[str, Any]) -> str:
    """The stage prefix the template's functions run with (``SLUICE_PREFIX``)."""
    for resource in template["Resources"].values():
        variables = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        if isinstance(variables.get("SLUICE_PREFIX"), str):
            return str(variables["SLUICE_PREFIX"])
    raise TemplateError("no function in the template has SLUICE_PREFIX")


def _role_statements(resources: Mapping[str, Any], role_id: str) -> list[dict[str, Any]]:
    role = resources[role_id]["Properties"]
    if role.get("ManagedPolicyArns"):
        raise TemplateError(f"{role_id} attaches managed policies, whose documents are not in the template")
    statements = [s for inline in role.get("Policies", []) for s in inline["PolicyDocument"]["Statement"]]
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"].get("Roles", []):
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
    return statements


class _Resolver:
    def __init__(self, resources: Mapping[str, Any], place: Place, template_prefix: str, local_prefix: str) -> None:
        self._resources = resources
        self._place = place
        self._template_prefix = template_prefix
        self._local_prefix = local_prefix
        self._refs: dict[str, str] = {}

    def learn_names(self, local_env: Mapping[str, str]) -> None:
        """Physical names of resources the template passes to functions by ``Ref`` (generated on AWS)."""
        for resource in self._resources.values():
            variables = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
            for key, value in variables.items():
                if isinstance(value, dict) and set(value) == {"Ref"} and key in local_env:
                    self._refs[value["Ref"]] = local_env[key]

    def local_name(self, logical_id: str) -> str:
        if logical_id in self._refs:
            return self._refs[logical_id]
        resource = self._resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"reference to {logical_id}, which is not in the template")
        prop = _NAME_PROPERTIES.get(resource["Type"])
        name = (resource.get("Properties") or {}).get(prop) if prop else None
        if isinstance(name, str):
            return name.replace(self._template_prefix, self._local_prefix, 1)
        return f"{self._local_prefix}-{logical_id}"  # unnamed: a name no local resource has

    def arn(self, logical_id: str) -> str:
        kind = self._resources[logical_id]["Type"]
        name = self.local_name(logical_id)
        place = self._place
        arns = {
            "AWS::S3::Bucket": lambda: f"arn:aws:s3:::{name}",
            "AWS::DynamoDB::Table": lambda: place.arn("dynamodb", f"table/{name}"),
            "AWS::Events::EventBus": lambda: place.arn("events", f"event-bus/{name}"),
            "AWS::Lambda::Function": lambda: place.arn("lambda", f"function:{name}"),
            "AWS::KinesisFirehose::DeliveryStream": lambda: place.arn("firehose", f"deliverystream/{name}"),
            "AWS::SQS::Queue": lambda: place.arn("sqs", name),
            "AWS::Logs::LogGroup": lambda: place.arn("logs", f"log-group:{name}:*"),
            "AWS::SNS::Topic": lambda: name if name.startswith("arn:") else place.arn("sns", name),
            "AWS::KMS::Key": lambda: place.arn("kms", f"key/{logical_id}"),
            "AWS::CloudWatch::Alarm": lambda: place.arn("cloudwatch", f"alarm:{name}"),
            "AWS::IAM::Role": lambda: f"arn:aws:iam::{place.account}:role/{name}",  # IAM ARNs name no region
            "AWS::StepFunctions::StateMachine": lambda: name if name.startswith("arn:") else place.arn(
                "states", f"stateMachine:{name}"),
        }
        if kind not in arns:
            raise TemplateError(f"no ARN rule for {logical_id} ({kind})")
        return arns[kind]()

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, str):  # a name built in Python and joined into an ARN carries the template's prefix
            return value.replace(f"{self._template_prefix}-", f"{self._local_prefix}-")
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self._ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            if attribute != "Arn":
                raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} is not resolved")
            return self.arn(logical_id)
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return str(separator).join(str(self.resolve(part)) for part in parts)
        if set(value) == {"Fn::Sub"}:
            text = value["Fn::Sub"]
            if not isinstance(text, str):
                raise TemplateError("Fn::Sub with a variable map is not resolved")
            return self.resolve(re.sub(r"\$\{([^}]+)\}", lambda m: str(self._sub(m.group(1))), text))
        if set(value) == {"Fn::Split"}:
            delimiter, source = value["Fn::Split"]
            return str(self.resolve(source)).split(str(delimiter))
        if set(value) == {"Fn::Select"}:
            index, items = value["Fn::Select"]
            resolved = self.resolve(items)
            if not isinstance(resolved, list) or not 0 <= int(index) < len(resolved):
                raise TemplateError(f"Fn::Select {index} of {resolved!r} is not resolved")
            return resolved[int(index)]
        if any(key.startswith("Fn::") for key in value):
            raise TemplateError(f"intrinsic {sorted(value)} is not resolved")
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {"AWS::Region": self._place.region, "AWS::AccountId": self._place.account,
                  "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
        if name in pseudo:
            return pseudo[name]
        if (self._resources.get(name) or {}).get("Type") in _REF_IS_ARN:
            return self.arn(name)
        return self.local_name(name)

    def _sub(self, name: str) -> str:
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return str(self.resolve({"Fn::GetAtt": [logical_id, attribute]}))
        return self._ref(name)
