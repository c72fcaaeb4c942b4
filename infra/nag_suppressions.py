"""Every acknowledgment of the app's checks, each with its reason (the only place they live).

cdk-nag (packs in ``NAG_PACKS``): findings are acknowledged on the narrowest construct that owns them,
and wildcard resources one by one (rule id plus the exact resource), so a new wildcard still fails synth.
cfn-lint: the rules ignored on the synthesized template are in ``CFN_LINT_IGNORED``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from cdk_nag import AwsSolutionsChecks, NagPack, ServerlessChecks
from constructs import IConstruct

from infra.components.functions import PYTHON_VERSION, RUNTIME
from infra.components.permissions import access_for
from sluice.wiring import ROUTES, routes_for

if TYPE_CHECKING:
    from infra.stack import SluiceStack

XRAY_REASON = (
    "Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level "
    "permissions, so CDK grants them on '*' (the only '*' resource in the function policies; tests/infra checks it)."
)
PREFIX_REASON = (
    "Least privilege by key prefix: the function may touch objects under {prefix} in this bucket only "
    "(see infra/components/permissions.py)."
)
PREDICT_VERSIONS_REASON = (
    "deploy_model and rollback_model publish versions of this predict function and move its alias live: "
    "':*' covers exactly the function's own versions and aliases (qualified ARNs)."
)
DEAD_LETTER_REASON = (
    "This queue is itself the dead-letter queue of its function's EventBridge targets and asynchronous "
    "invocations; cdk-nag only recognizes queue-to-queue redrive."
)
RUNTIME_REASON = (
    f"Pinned to {RUNTIME.name} on purpose: the container image (public.ecr.aws/lambda/python:{PYTHON_VERSION}) "
    "and the serving dependency layer (wheels from `make layers`, checked at synth) use the same interpreter; "
    "RUNTIME in infra/components/functions.py moves them together."
)


ON_FAILURE_REASON = (
    "Asynchronous invocations that fail (after 2 retries) go to this function's on-failure destination "
    "(EventInvokeConfig → its SQS dead-letter queue, alarmed on depth), which records the request and the error; "
    "a DeadLetterConfig would park every failed event a second time."
)
SYNCHRONOUS_REASON = (
    "predict is only invoked synchronously (its IAM Function URL on alias live): a failed request returns the "
    "error to its caller, so there is no asynchronous event to park."
)
PROVIDER_REASON = (
    "CDK's AwsCustomResource provider: CloudFormation invokes it synchronously, once, to create alias live; "
    "CloudFormation reports its failure, and the construct offers no tracing option."
)
BUFFER_REASON = (
    "An SQS event source mapping takes no on-failure destination (Lambda supports them for stream and Kafka "
    "sources); a buffered message that keeps failing moves to the function's dead-letter queue through the buffer "
    "queue's redrive policy (maxReceiveCount), alarmed on depth."
)
CFN_LINT_IGNORED: dict[str, str] = {
    "W3005": "CDK declares DependsOn on a function's role next to the GetAtt of it (aws-lambda Function); "
    "the redundant dependency is harmless and not removable from the L2 construct.",
}


def nag_packs(scope: IConstruct | None = None) -> list[NagPack]:
    """The cdk-nag packs every synth and tests/infra run (cdk-nag is pinned in pyproject.toml)."""
    return [AwsSolutionsChecks(scope), ServerlessChecks(scope)]


def acknowledge_nag_findings(stack: SluiceStack) -> None:
    """Acknowledge the findings sluice accepts, as narrowly as cdk-nag allows."""
    functions = stack.functions
    _acknowledge(functions, "AwsSolutions-IAM5[Resource::*]", XRAY_REASON)
    for name, fn, model in functions.all_functions():
        access = access_for(name)
        role = fn.role
        assert role is not None
        for bucket, prefixes in (
            (stack.storage.data_bucket, (*access.data_read, *access.data_write)),
            (stack.storage.artifact_bucket, (*access.artifacts_read, *access.artifacts_write)),
        ):
            for prefix in dict.fromkeys(prefixes):
                expanded = prefix.replace("{model}", model or "")
                _acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Resource::<{_logical_id(bucket)}.Arn>/{expanded}*]",
                    PREFIX_REASON.format(prefix=expanded),
                )
        if access.controls_endpoint:
            for predict in functions.predict.values():
                _acknowledge(
                    role, f"AwsSolutions-IAM5[Resource::<{_logical_id(predict)}.Arn>:*]", PREDICT_VERSIONS_REASON
                )
        if isinstance(fn, lambda_.Function) and fn.runtime.name == RUNTIME.name:
            _acknowledge(fn, "AwsSolutions-L1", RUNTIME_REASON)
            _acknowledge(fn, "Serverless-LambdaLatestVersion", RUNTIME_REASON)
        _acknowledge(fn, "Serverless-LambdaDLQ", ON_FAILURE_REASON if routes_for(name) else SYNCHRONOUS_REASON)
    for model, role in stack.captures.roles.items():  # Firehose writes captures under the model's prefixes only
        for prefix in (f"captures/{model}/", f"capture-errors/{model}/"):
            _acknowledge(role, f"AwsSolutions-IAM5[Resource::<{_logical_id(stack.storage.data_bucket)}.Arn>/{prefix}*]",
                         PREFIX_REASON.format(prefix=prefix))
    for queue in stack.wiring.dead_letter_queues.values():
        _acknowledge(queue, "AwsSolutions-SQS3", DEAD_LETTER_REASON)
        _acknowledge(queue, "Serverless-SQSRedrivePolicy", DEAD_LETTER_REASON)
    for route in ROUTES:  # [stack] buffer_drops: the event source mapping of the buffered route's function
        if route.name not in stack.wiring.buffer_queues:
            continue
        for child in functions.by_name[route.function].node.children:
            if child.node.id.startswith("SqsEventSource"):
                _acknowledge(child, "Serverless-LambdaEventSourceMappingDestination", BUFFER_REASON)
    provider = stack.node.try_find_child("AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", ""))
    if provider is not None:
        for rule_id in ("Serverless-LambdaDLQ", "Serverless-LambdaTracing"):
            _acknowledge(provider, rule_id, PROVIDER_REASON)


def _acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def _logical_id(construct: s3.IBucket | lambda_.IFunction) -> str:
    resource = construct.node.default_child
    assert isinstance(resource, CfnResource)
    return Stack.of(construct).get_logical_id(resource)
