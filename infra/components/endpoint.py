"""The predict endpoints: alias ``live`` (owned by the runtime), an IAM-authenticated Function URL, alarms.

CloudFormation never declares or moves ``live``: a custom resource only creates it (pointing at
``$LATEST``) when the stack creates the endpoint, and ignores an alias that already exists. Every later
move, weights included, belongs to deploy_model and rollback_model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import CfnOutput, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.components.alarms import metric_alarm
from sluice.naming import LIVE_ALIAS, ResourceNames
from sluice.wiring.alarms import ENDPOINT_KINDS, AlarmSpec

FUNCTION_URL_AUTH = "AWS_IAM"  # never public
ALIAS_DESCRIPTION = "Owned by the sluice runtime (deploy_model, rollback_model); never by CloudFormation"


class Endpoint(Construct):
    """One model's endpoint: ``live`` created if missing, its Function URL and its alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model: str,
        function: lambda_.IFunction,
        function_name: str,
        names: ResourceNames,
        alias_provider_role: iam.IRole,
        alias_provider_logs: logs.ILogGroup,
        alarms: Sequence[AlarmSpec] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.model = model
        self.function_name = function_name
        self.live_alias = cr.AwsCustomResource(
            self,
            "CreateLiveAlias",
            resource_type="Custom::SluiceLiveAlias",
            on_create=cr.AwsSdkCall(
                service="Lambda",
                action="createAlias",
                parameters={
                    "FunctionName": function.function_name,
                    "Name": LIVE_ALIAS,
                    "FunctionVersion": "$LATEST",
                    "Description": ALIAS_DESCRIPTION,
                },
                physical_resource_id=cr.PhysicalResourceId.of(f"{function_name}:{LIVE_ALIAS}"),
                ignore_error_codes_matching="ResourceConflictException",
            ),
            # no on_update and no on_delete: the runtime owns the alias after its creation
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["lambda:CreateAlias"], resources=[function.function_arn])]
            ),
            role=alias_provider_role,
            log_group=alias_provider_logs,
            memory_size=256,
            install_latest_aws_sdk=False,
        )
        self.url = lambda_.CfnUrl(
            self, "Url", target_function_arn=function.function_arn, auth_type=FUNCTION_URL_AUTH, qualifier=LIVE_ALIAS
        )
        self.url.node.add_dependency(self.live_alias)
        CfnOutput(
            self,
            "UrlOutput",
            value=self.url.attr_function_url,
            description=f"Predict endpoint of {model} (alias {LIVE_ALIAS}, IAM auth): POST /v1/models/{model}:predict",
        )
        self.alarms: dict[str, cloudwatch.IAlarm] = {
            spec.kind: metric_alarm(self, f"{_construct_id(spec.kind)}Alarm", spec) for spec in alarms
        }


class Endpoints(Construct):
    """Every model's endpoint (``functions`` maps model → predict function named by ``names``).

    The endpoints share one role and log group for the provider that creates alias ``live``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        names: ResourceNames,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        alarms: Mapping[str, Sequence[AlarmSpec]] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alias_provider_logs = logs.LogGroup(
            self, "AliasProviderLogs", retention=log_retention, removal_policy=removal_policy
        )
        self.alias_provider_role = iam.Role(
            self,
            "AliasProviderRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Creates alias live on predict functions that do not have it yet",
        )
        self.alias_provider_logs.grant_write(self.alias_provider_role)
        self.by_model: dict[str, Endpoint] = {
            model: Endpoint(
                self,
                _construct_id(model),
                model=model,
                function=function,
                function_name=names.predict_function(model),
                names=names,
                alias_provider_role=self.alias_provider_role,
                alias_provider_logs=self.alias_provider_logs,
                alarms=[spec for spec in (alarms or {}).get(model, ()) if spec.kind in ENDPOINT_KINDS],
            )
            for model, function in sorted(functions.items())
        }


def _construct_id(model: str) -> str:
    return "".join(word.capitalize() for word in model.split("-"))
