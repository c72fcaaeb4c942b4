"""Least privilege per function: which bucket prefixes it touches and whether it controls the endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from infra.components.storage import grant_prefix_read, grant_prefix_write
from sluice.storage.keys import (
    ACCEPTED,
    CAPTURES,
    DRIFT,
    FEEDBACK,
    INCOMING,
    MODELS,
    QUALITY,
    REJECTED,
    SCORE,
    SCORED,
    SCORING_PARTS,
)
from sluice.wiring import FUNCTIONS, routes_for

# What deploy_model and rollback_model may do to a predict function (its versions and aliases); see
# sluice.endpoint.swap: ListVersionsByFunction finds a version already pinned, GetFunction backs the
# function_updated_v2 waiter.
ENDPOINT_CONTROL_ACTIONS = (
    "lambda:GetAlias",
    "lambda:CreateAlias",
    "lambda:UpdateAlias",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:PublishVersion",
    "lambda:ListVersionsByFunction",
)
# Re-pinning changes only the environment: UpdateFunctionConfiguration is allowed only on requests that set no
# layers and no VPC (the condition keys are absent from such a request; Lambda's "Actions, resources, and
# condition keys" page), so the endpoint role cannot swap predict's code through a layer.
ENDPOINT_REPIN_ACTION = "lambda:UpdateFunctionConfiguration"
ENDPOINT_REPIN_CONDITION = {"Null": {"lambda:Layer": "true", "lambda:VpcIds": "true"}}
MODEL_PLACEHOLDER = "{model}"

# The registry, per use (sluice.registry.dynamodb; no function scans it): reading items, writing them, and
# deleting the release records and leases (the deploy lock, the active and queued releases, the previous alias).
REGISTRY_READ = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
REGISTRY_WRITE = (*REGISTRY_READ, "dynamodb:PutItem", "dynamodb:UpdateItem")
REGISTRY_RELEASE = (*REGISTRY_WRITE, "dynamodb:DeleteItem")
# Powertools idempotency: get, put (conditional), update the record, delete it when the handler failed.
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


@dataclass(frozen=True)
class Access:
    """Key prefixes a function reads or writes (``{model}`` is its own model) and its extra powers."""

    data_read: tuple[str, ...] = ()
    data_write: tuple[str, ...] = ()
    artifacts_read: tuple[str, ...] = ()
    artifacts_write: tuple[str, ...] = ()
    controls_endpoint: bool = False
    captures: bool = False  # puts records to its model's capture stream (firehose:PutRecordBatch)
    release_checks: bool = False  # reads per-version metrics of releases in progress (cloudwatch:GetMetricData)
    registry: tuple[str, ...] = REGISTRY_WRITE  # its actions on the registry table


ACCESS: dict[str, Access] = {
    # reads accepted/ too: a data version already accepted is not written again (HeadObject needs GetObject)
    "validate_dataset": Access(
        data_read=(f"{INCOMING}/", f"{ACCEPTED}/"), data_write=(f"{ACCEPTED}/", f"{REJECTED}/")
    ),
    # reads a SageMaker training job's model.tar.gz (under the version's prefix) to unpack it next to it
    "train_model": Access(data_read=(f"{ACCEPTED}/",), artifacts_read=(f"{MODELS}/",), artifacts_write=(f"{MODELS}/",)),
    # writes the evaluation report next to the candidate's artifacts
    "evaluate_model": Access(
        data_read=(f"{ACCEPTED}/",), artifacts_read=(f"{MODELS}/",), artifacts_write=(f"{MODELS}/",)
    ),
    # writes A/B and shadow reports next to the candidate's artifacts
    "deploy_model": Access(artifacts_read=(f"{MODELS}/",), artifacts_write=(f"{MODELS}/",), controls_endpoint=True,
                           release_checks=True, registry=REGISTRY_RELEASE),
    "rollback_model": Access(artifacts_read=(f"{MODELS}/",), controls_endpoint=True, registry=REGISTRY_RELEASE),
    # single registry items only: the shadow release's record and a version's sha256
    "predict": Access(artifacts_read=(f"{MODELS}/{MODEL_PLACEHOLDER}/",), captures=True,
                      registry=("dynamodb:GetItem",)),
    # reads captures and the live version's baseline; writes drift reports
    # only reads the registry (the live alias)
    "detect_drift": Access(data_read=(f"{CAPTURES}/",), data_write=(f"{DRIFT}/",), artifacts_read=(f"{MODELS}/",),
                           registry=REGISTRY_READ),
    # reads the dropped labels and the captures they join; writes the quality report
    "record_feedback": Access(data_read=(f"{FEEDBACK}/", f"{CAPTURES}/"), data_write=(f"{QUALITY}/",)),
    # reads the file to score and the model version's artifacts; writes the scored rows and their report
    "score_batch": Access(data_read=(f"{SCORE}/", f"{SCORED}/"), data_write=(f"{SCORED}/",),
                          artifacts_read=(f"{MODELS}/",)),
    # one part of a large file (or the merge of the parts): the job names the version and its artifact's sha256,
    # so no registry access; started by the scoring state machine, not by an event
    "score_part": Access(data_read=(f"{SCORE}/", f"{SCORED}/", f"{SCORING_PARTS}/"),
                         data_write=(f"{SCORED}/", f"{SCORING_PARTS}/"),
                         artifacts_read=(f"{MODELS}/",), registry=()),
}


def access_for(function: str) -> Access:
    """The access of ``function``; every FunctionSpec must have an entry."""
    try:
        return ACCESS[function]
    except KeyError:
        raise KeyError(f"no IAM access declared for function {function!r} in infra/components/permissions.py") from None


def grant_access(
    fn: lambda_.IFunction,
    *,
    function: str,
    model: str | None,
    data_bucket: s3.IBucket,
    artifact_bucket: s3.IBucket,
    registry_table: dynamodb.ITable,
    idempotency_table: dynamodb.ITable,
    bus: events.IEventBus,
    predict_functions_arn: str,
    capture_streams: Mapping[str, str] | None = None,
) -> None:
    """Grant ``fn`` exactly what its entry in ``ACCESS`` (and the wiring) says."""
    access = access_for(function)

    def expand(prefix: str) -> str:
        if MODEL_PLACEHOLDER in prefix and model is None:
            raise ValueError(f"{function}: prefix {prefix!r} names a model but the function is not per model")
        return prefix.replace(MODEL_PLACEHOLDER, model or "")

    for prefix in access.data_read:
        grant_prefix_read(data_bucket, fn, expand(prefix))
    for prefix in access.data_write:
        grant_prefix_write(data_bucket, fn, expand(prefix))
    for prefix in access.artifacts_read:
        grant_prefix_read(artifact_bucket, fn, expand(prefix))
    for prefix in access.artifacts_write:
        grant_prefix_write(artifact_bucket, fn, expand(prefix))
    if access.controls_endpoint:
        iam.Grant.add_to_principal(grantee=fn, actions=list(ENDPOINT_CONTROL_ACTIONS),
                                   resource_arns=[predict_functions_arn])
        fn.add_to_role_policy(iam.PolicyStatement(actions=[ENDPOINT_REPIN_ACTION], resources=[predict_functions_arn],
                                                  conditions=ENDPOINT_REPIN_CONDITION))
    if access.captures:
        if model is None or model not in (capture_streams or {}):
            raise ValueError(f"{function}: captures need its model's capture stream")
        iam.Grant.add_to_principal(grantee=fn, actions=["firehose:PutRecordBatch"],
                                   resource_arns=[(capture_streams or {})[model]])
    if access.release_checks:  # GetMetricData has no resource-level permissions
        iam.Grant.add_to_principal(grantee=fn, actions=["cloudwatch:GetMetricData"], resource_arns=["*"])
    if access.registry:
        iam.Grant.add_to_principal(grantee=fn, actions=list(access.registry), resource_arns=[registry_table.table_arn])
    if routes_for(function):  # event-triggered: idempotency records and the sluice bus
        iam.Grant.add_to_principal(grantee=fn, actions=list(IDEMPOTENCY_ACTIONS),
                                   resource_arns=[idempotency_table.table_arn])
        bus.grant_put_events_to(fn)


def check_access_table() -> None:
    """Every declared function has an access entry and every entry a function."""
    missing = sorted(set(FUNCTIONS) - set(ACCESS))
    unknown = sorted(set(ACCESS) - set(FUNCTIONS))
    if missing or unknown:
        raise KeyError(f"infra/components/permissions.py ACCESS is out of date: missing {missing}, unknown {unknown}")
