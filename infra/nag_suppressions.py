"""Every acknowledgment of the app's checks, each with its reason (the only place they live).

cdk-nag (packs in ``NAG_PACKS``): findings are acknowledged on the narrowest construct that owns them,
and wildcard resources one by one (rule id plus the exact resource), so a new wildcard still fails synth.
cfn-lint: the rules ignored on the synthesized template are in ``CFN_LINT_IGNORED``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from cdk_nag import AwsSolutionsChecks, NagPack, ServerlessChecks
from constructs import IConstruct

from infra.components.functions import PYTHON_VERSION, RUNTIME, Functions
from infra.components.permissions import access_for
from infra.components.training_jobs import JOB_LOG_GROUP
from infra.components.validation_jobs import PROCESSING_LOG_GROUP
from sluice.jobs.validation import VALIDATE_KIND
from sluice.naming import ResourceNames
from sluice.storage.keys import INCOMING, VALIDATION
from sluice.wiring import ROUTES, routes_for
from sluice.wiring.state_machines import SCORE_PARTS, STATE_MACHINES

if TYPE_CHECKING:
    from infra.model_stack import ModelStack
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
    "deploy_model and rollback_model publish versions of the stage's predict functions and move their alias live: "
    "'<prefix>-predict-*' is every predict function of this stage with its versions and aliases, one ARN whatever "
    "the number of models (a list of ARNs would outgrow IAM's 10,240-character inline policy at about 60 models)."
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
UNTRACED_PREDICT_REASON = (
    "Predictions are traced only on opt-in ([models.<name>.serving] trace = true): an X-Ray segment per request "
    "on the hot path costs per request; the endpoint's metrics, logs with request ids and captures observe it."
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
STATE_MACHINE_TASK_REASON = (
    "The state machine invokes its one worker function: CDK grants lambda:InvokeFunction on the function and on "
    "'<function ARN>:*', its versions and aliases (infra/components/scoring.py)."
)
STATE_MACHINE_LOGS_REASON = (
    "Execution logging and tracing: the log delivery actions (logs:CreateLogDelivery, ...) and "
    "xray:PutTraceSegments/PutTelemetryRecords support no resource-level permissions, so CDK grants them on '*'."
)
DISTRIBUTED_MAP_REASON = (
    "A Distributed Map runs each item as a child execution of its own state machine: CDK grants Describe/Stop/"
    "RedriveExecution on that one state machine's executions ('execution:<its name>:*' and its map runs')."
)
REDRIVE_REASON = (
    "score_batch reads the status of the scoring state machine's executions (states:DescribeExecution on "
    "'execution:<its name>:*'; execution names are per file and version, unknown before the drop): a file whose "
    "execution ended without a result starts its next attempt (steps/score_parts.py)."
)
JOB_PREFIX_REASON = (
    "A model's SageMaker training job role reads its model's accepted data and writes its model's artifacts "
    "(objects under {prefix} only; infra/components/training_jobs.py)."
)
JOB_LOGS_REASON = (
    "SageMaker writes a training job's logs to log streams named after the job in /aws/sagemaker/TrainingJobs; the "
    "streams do not exist before the job, so the role may write any stream of that one log group."
)
ECR_TOKEN_REASON = (
    "ecr:GetAuthorizationToken has no resource-level permissions ('*' is the only resource AWS accepts); pulling "
    "is granted on the assets repository only (DockerImageAsset.repository.grant_pull)."
)
VALIDATION_PREFIX_REASON = (
    "The stage's validation job role reads the raw drops and writes the job's verdict and normalized data (objects "
    "under {prefix} only; infra/components/validation_jobs.py)."
)
VALIDATION_READ_REASON = (
    "validate_dataset reads a validation job's verdict and normalized data (objects under {prefix} only; "
    "infra/components/validation_jobs.py)."
)
VALIDATION_LOGS_REASON = (
    "SageMaker writes a processing job's logs to log streams named after the job in /aws/sagemaker/ProcessingJobs; "
    "the streams do not exist before the job, so the role may write any stream of that one log group."
)
VALIDATION_LAUNCH_REASON = (
    "validate_dataset starts processing jobs named after the drop it validates: '{jobs}' is every validation job "
    "name of this stage (the names are not known at deploy time); it may pass only the stage's validation job role, "
    "only to sagemaker.amazonaws.com (iam:PassedToService)."
)
JOB_LAUNCH_REASON = (
    "train_model starts training jobs named after the version it trains: '{jobs}' is every job name of this stage "
    "(the names are not known at deploy time), and it may pass only this stage's job roles '{roles}', only to "
    "sagemaker.amazonaws.com (iam:PassedToService)."
)
CFN_LINT_IGNORED: dict[str, str] = {
    "W3005": "CDK declares DependsOn on a function's role next to the GetAtt of it (aws-lambda Function); "
    "the redundant dependency is harmless and not removable from the L2 construct.",
}


def nag_packs(scope: IConstruct | None = None) -> list[NagPack]:
    """The cdk-nag packs every synth and tests/infra run (cdk-nag is pinned in pyproject.toml)."""
    return [AwsSolutionsChecks(scope), ServerlessChecks(scope)]


def acknowledge_nag_findings(stack: SluiceStack) -> None:
    """Acknowledge the findings sluice accepts, as narrowly as cdk-nag allows (in every model stack too)."""
    _acknowledge_functions(stack.functions, stack.names, stack.storage.data_bucket, stack.storage.artifact_bucket)
    for model_stack in stack.model_stacks.values():
        _acknowledge_functions(model_stack.functions, stack.names, model_stack.data_bucket, model_stack.artifact_bucket)
        for model, role in model_stack.captures.roles.items():  # Firehose writes under the model's prefixes only
            for prefix in (f"captures/{model}/", f"capture-errors/{model}/"):
                _acknowledge(role, f"AwsSolutions-IAM5[Resource::{_arn_ref(model_stack.data_bucket)}/{prefix}*]",
                             PREFIX_REASON.format(prefix=prefix))
        _acknowledge_alias_provider(model_stack)
        _acknowledge_job_roles(model_stack)
    _acknowledge_state_machines(stack)
    if stack.training_jobs_arn is not None:
        _acknowledge_job_launch(stack)
    if stack.validation_jobs is not None:
        _acknowledge_validation_jobs(stack)
    for queue in stack.wiring.dead_letter_queues.values():
        _acknowledge(queue, "AwsSolutions-SQS3", DEAD_LETTER_REASON)
        _acknowledge(queue, "Serverless-SQSRedrivePolicy", DEAD_LETTER_REASON)
    for route in ROUTES:  # [stack] buffer_drops: the event source mapping of the buffered route's function
        if route.name not in stack.wiring.buffer_queues:
            continue
        for child in stack.functions.by_name[route.function].node.children:
            if child.node.id.startswith("SqsEventSource"):
                _acknowledge(child, "Serverless-LambdaEventSourceMappingDestination", BUFFER_REASON)


def _acknowledge_functions(functions: Functions, names: ResourceNames, data_bucket: s3.IBucket,
                           artifact_bucket: s3.IBucket) -> None:
    _acknowledge(functions, "AwsSolutions-IAM5[Resource::*]", XRAY_REASON)
    for name, fn, model in functions.all_functions():
        access = access_for(name)
        role = fn.role
        assert role is not None
        for bucket, prefixes in (
            (data_bucket, (*access.data_read, *access.data_write)),
            (artifact_bucket, (*access.artifacts_read, *access.artifacts_write)),
        ):
            for prefix in dict.fromkeys(prefixes):
                expanded = prefix.replace("{model}", model or "")
                _acknowledge(role, f"AwsSolutions-IAM5[Resource::{_arn_ref(bucket)}/{expanded}*]",
                             PREFIX_REASON.format(prefix=expanded))
        if access.controls_endpoint:
            pattern = ("arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:"
                       f"{names.predict_function('*')}")
            _acknowledge(role, f"AwsSolutions-IAM5[Resource::{pattern}]", PREDICT_VERSIONS_REASON)
        if isinstance(fn, lambda_.Function) and fn.runtime.name == RUNTIME.name:
            _acknowledge(fn, "AwsSolutions-L1", RUNTIME_REASON)
            _acknowledge(fn, "Serverless-LambdaLatestVersion", RUNTIME_REASON)
        _acknowledge(fn, "Serverless-LambdaDLQ", ON_FAILURE_REASON if routes_for(name) else SYNCHRONOUS_REASON)
        cfn = fn.node.default_child
        if name == "predict" and isinstance(cfn, lambda_.CfnFunction) and cfn.tracing_config is None:
            _acknowledge(fn, "Serverless-LambdaTracing", UNTRACED_PREDICT_REASON)


def _acknowledge_state_machines(stack: SluiceStack) -> None:
    """The roles of the state machines (infra/components/scoring.py): their task function, logs and child runs."""
    for kind, machine in stack.state_machines.by_kind.items():
        spec = STATE_MACHINES[kind]
        function = stack.functions.by_name[spec.function].node.default_child
        assert isinstance(function, CfnResource)
        _acknowledge(machine.role, f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(function)}.Arn>:*]",
                     STATE_MACHINE_TASK_REASON)
        _acknowledge(machine.role, "AwsSolutions-IAM5[Resource::*]", STATE_MACHINE_LOGS_REASON)
        resource = machine.node.default_child
        assert isinstance(resource, CfnResource)
        name = json.dumps({"Fn::Select": [6, {"Fn::Split": [":", {"Ref": stack.get_logical_id(resource)}]}]},
                          separators=(",", ":"))
        executions = f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{name}"
        for pattern in (f"{executions}:*", f"{executions}/*:*"):
            _acknowledge(machine, f"AwsSolutions-IAM5[Resource::{pattern}]", DISTRIBUTED_MAP_REASON)
        if kind == SCORE_PARTS.kind:
            starter = stack.functions.by_name["score_batch"].role
            assert starter is not None
            _acknowledge(starter, f"AwsSolutions-IAM5[Resource::{executions}:*]", REDRIVE_REASON)


def _acknowledge_job_roles(model_stack: ModelStack) -> None:
    for model, role in model_stack.job_roles.roles.items():
        for bucket, prefix in ((model_stack.data_bucket, f"accepted/{model}/"),
                               (model_stack.artifact_bucket, f"models/{model}/")):
            _acknowledge(role, f"AwsSolutions-IAM5[Resource::{_arn_ref(bucket)}/{prefix}*]",
                         JOB_PREFIX_REASON.format(prefix=prefix))
        _acknowledge(role, f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
                           f"log-group:{JOB_LOG_GROUP}:*]", JOB_LOGS_REASON)
        _acknowledge(role, "AwsSolutions-IAM5[Resource::*]", ECR_TOKEN_REASON)


def _acknowledge_job_launch(stack: SluiceStack) -> None:
    role = stack.functions.by_name["train_model"].role
    assert role is not None
    jobs = ("arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/"
            f"{stack.names.job_prefix('train')}*")
    roles = f"arn:<AWS::Partition>:iam::<AWS::AccountId>:role/{stack.names.training_job_role('*')}"
    reason = JOB_LAUNCH_REASON.format(jobs=jobs, roles=roles)
    _acknowledge(role, f"AwsSolutions-IAM5[Resource::{jobs}]", reason)
    _acknowledge(role, f"AwsSolutions-IAM5[Resource::{roles}]", reason)


def _acknowledge_validation_jobs(stack: SluiceStack) -> None:
    jobs = stack.validation_jobs
    assert jobs is not None
    bucket = _arn_ref(stack.storage.data_bucket)
    for prefix in (f"{INCOMING}/", f"{VALIDATION}/"):
        _acknowledge(jobs.role, f"AwsSolutions-IAM5[Resource::{bucket}/{prefix}*]",
                     VALIDATION_PREFIX_REASON.format(prefix=prefix))
    _acknowledge(jobs.role, f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
                            f"log-group:{PROCESSING_LOG_GROUP}:*]", VALIDATION_LOGS_REASON)
    _acknowledge(jobs.role, "AwsSolutions-IAM5[Resource::*]", ECR_TOKEN_REASON)
    role = stack.functions.by_name["validate_dataset"].role
    assert role is not None
    names = ("arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:processing-job/"
             f"{stack.names.job_prefix(VALIDATE_KIND)}*")
    _acknowledge(role, f"AwsSolutions-IAM5[Resource::{names}]", VALIDATION_LAUNCH_REASON.format(jobs=names))
    _acknowledge(role, f"AwsSolutions-IAM5[Resource::{bucket}/{VALIDATION}/*]",
                 VALIDATION_READ_REASON.format(prefix=f"{VALIDATION}/"))


def _acknowledge_alias_provider(scope: IConstruct) -> None:
    provider = scope.node.try_find_child("AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", ""))
    if provider is not None:
        for rule_id in ("Serverless-LambdaDLQ", "Serverless-LambdaTracing"):
            _acknowledge(provider, rule_id, PROVIDER_REASON)


def _acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def _arn_ref(bucket: s3.IBucket) -> str:
    """How cdk-nag spells a bucket's ARN: ``<Logical.Arn>`` in the stage's stack, ``<BucketArnParameter>`` in a
    model stack (there the bucket is imported from the parameter ``<construct id>Arn``, infra/model_stack.py)."""
    resource = bucket.node.default_child
    if isinstance(resource, CfnResource):
        return f"<{Stack.of(bucket).get_logical_id(resource)}.Arn>"
    return f"<{bucket.node.id}Arn>"
