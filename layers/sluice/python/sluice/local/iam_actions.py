"""What IAM authorizes for an AWS API call: the action(s), the resource ARN(s) and the condition keys.

Written from each service's "Actions, resources, and condition keys" page of the Service Authorization Reference:
an operation is not always its own action (HeadObject is ``s3:GetObject``, ListObjectsV2 ``s3:ListBucket`` with
``s3:prefix``, CopyObject needs ``s3:GetObject`` on the source and ``s3:PutObject`` on the target, a DynamoDB
transaction is authorized item by item). A call this table does not know raises ``UnknownCallError``: a new call
site must be added here, so the policy checks never pass by ignoring it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from sluice.local.iam_policy import AuthRequest


class UnknownCallError(KeyError):
    """An AWS operation the authorization table does not describe."""


@dataclass(frozen=True)
class Place:
    """The partition, region and account a call is made in."""

    region: str = "us-east-1"
    account: str = "123456789012"

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if regional else ''}:{self.account if regional else ''}:{resource}"


Params = Mapping[str, Any]
Mapper = Callable[[str, Params, Place], list[AuthRequest]]


def requests_for(service: str, operation: str, params: Params, place: Place | None = None) -> list[AuthRequest]:
    """The authorization requests of calling ``service``'s ``operation`` with ``params`` (botocore's names)."""
    mapper = _SERVICES.get(service)
    if mapper is None:
        raise UnknownCallError(f"{service}.{operation}: no authorization mapping for service {service!r}")
    return mapper(operation, params, place or Place())


# -- S3 ---------------------------------------------------------------------------------------------------------

_S3_OBJECT_ACTIONS = {
    "GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject", "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload", "DeleteObject": "s3:DeleteObject",
}


def _s3(operation: str, params: Params, place: Place) -> list[AuthRequest]:
    bucket = str(params.get("Bucket", ""))
    if operation in _S3_OBJECT_ACTIONS:
        action = _S3_OBJECT_ACTIONS[operation]
        if params.get("VersionId") and operation in ("GetObject", "HeadObject"):
            action = "s3:GetObjectVersion"
        return [AuthRequest(action, s3_object_arn(bucket, str(params["Key"])))]
    if operation in ("CopyObject", "UploadPartCopy"):
        source = params["CopySource"]
        if isinstance(source, str):
            source_bucket, _, source_key = unquote(source.lstrip("/")).partition("/")
        else:
            source_bucket, source_key = str(source["Bucket"]), str(source["Key"])
        return [AuthRequest("s3:GetObject", s3_object_arn(source_bucket, source_key)),
                AuthRequest("s3:PutObject", s3_object_arn(bucket, str(params["Key"])))]
    if operation in ("ListObjectsV2", "ListObjects"):
        context = {"s3:prefix": str(params["Prefix"])} if "Prefix" in params else {}
        return [AuthRequest("s3:ListBucket", f"arn:aws:s3:::{bucket}", context)]
    if operation == "HeadBucket":
        return [AuthRequest("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
    raise UnknownCallError(f"s3.{operation}")


def s3_object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


# -- DynamoDB ---------------------------------------------------------------------------------------------------

_TRANSACT_ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                          "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
_TABLE_OPERATIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "DescribeTable",
                     "ConditionCheckItem"}


def _dynamodb(operation: str, params: Params, place: Place) -> list[AuthRequest]:
    def table(name: str) -> str:
        return place.arn("dynamodb", f"table/{name}")

    if operation in _TABLE_OPERATIONS:
        resource = table(str(params["TableName"]))
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        return [AuthRequest(f"dynamodb:{operation}", resource)]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        requests = []
        for item in params.get("TransactItems", []):
            ((kind, body),) = item.items()
            requests.append(AuthRequest(f"dynamodb:{_TRANSACT_ITEM_ACTIONS[kind]}", table(str(body["TableName"]))))
        return requests
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [AuthRequest(f"dynamodb:{operation}", table(name)) for name in params.get("RequestItems", {})]
    raise UnknownCallError(f"dynamodb.{operation}")


# -- Lambda, EventBridge, Firehose, SNS, SQS, CloudWatch ------------------------------------------------------------

_LAMBDA_OPERATIONS = {"GetAlias", "CreateAlias", "UpdateAlias", "GetFunction", "GetFunctionConfiguration",
                      "UpdateFunctionConfiguration", "PublishVersion", "ListVersionsByFunction", "ListAliases",
                      "InvokeFunction", "Invoke"}


def _lambda(operation: str, params: Params, place: Place) -> list[AuthRequest]:
    if operation not in _LAMBDA_OPERATIONS:
        raise UnknownCallError(f"lambda.{operation}")
    name = str(params["FunctionName"])
    arn = name if name.startswith("arn:") else place.arn("lambda", f"function:{name}")
    qualifier = params.get("Qualifier")  # alias operations act on the function itself (Name is the alias)
    if qualifier and arn.count(":") == 6:
        arn += f":{qualifier}"
    action = "lambda:InvokeFunction" if operation == "Invoke" else f"lambda:{operation}"
    context = {}
    if "Layers" in params:
        context["lambda:Layer"] = ",".join(params["Layers"])
    if "VpcConfig" in params:
        context["lambda:VpcIds"] = str(params["VpcConfig"].get("VpcId", ""))
    return [AuthRequest(action, arn, context)]


def _events(operation: str, params: Params, place: Place) -> list[AuthRequest]:
    if operation != "PutEvents":
        raise UnknownCallError(f"events.{operation}")
    buses = {str(entry.get("EventBusName") or "default") for entry in params.get("Entries", [])}
    return [AuthRequest("events:PutEvents", bus if bus.startswith("arn:") else place.arn("events", f"event-bus/{bus}"))
            for bus in sorted(buses)]


def _firehose(operation: str, params: Params, place: Place) -> list[AuthRequest]:
    if operation not in ("PutRecordBatch", "PutRecord"):
        raise UnknownCallError(f"firehose.{operation}")
    stream = place.arn("firehose", f"deliverystream/{params['DeliveryStreamName']}")
    return [AuthRequest(f"firehose:{operation}", stream)]


def _stepfunctions(operation: str, params: Params, place: Place) -> list[AuthRequest]:
    """StartExecution is ``states:StartExecution`` on the state machine (resource type stateMachine);
    DescribeExecution is ``states:DescribeExecution`` on the execution (resource type execution)."""
    if operation == "StartExecution":
        return [AuthRequest("states:StartExecution", str(params["stateMachineArn"]))]
    if operation == "DescribeExecution":
        return [AuthRequest("states:DescribeExecution", str(params["executionArn"]))]
    raise UnknownCallError(f"stepfunctions.{operation}")


def _sns(operation: str, params: Params, place: Place) -> list[AuthRequest]:
    if operation != "Publish":
        raise UnknownCallError(f"sns.{operation}")
    return [AuthRequest("sns:Publish", str(params.get("TopicArn") or params.get("TargetArn")))]


def _sqs(operation: str, params: Params, place: Place) -> list[AuthRequest]:
    if operation not in ("SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes"):
        raise UnknownCallError(f"sqs.{operation}")
    name = urlparse(str(params["QueueUrl"])).path.rstrip("/").rsplit("/", 1)[-1]
    action = "sqs:SendMessage" if operation == "SendMessageBatch" else f"sqs:{operation}"
    return [AuthRequest(action, place.arn("sqs", name))]


def _cloudwatch(operation: str, params: Params, place: Place) -> list[AuthRequest]:
    if operation in ("GetMetricData", "GetMetricStatistics", "ListMetrics"):
        return [AuthRequest(f"cloudwatch:{operation}", "*")]
    if operation == "PutMetricData":
        return [AuthRequest("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": str(params["Namespace"])})]
    if operation == "DescribeAlarms":
        return [AuthRequest("cloudwatch:DescribeAlarms", place.arn("cloudwatch", f"alarm:{name}"))
                for name in params.get("AlarmNames", ["*"])]
    raise UnknownCallError(f"cloudwatch.{operation}")


def _sagemaker(operation: str, params: Params, place: Place) -> list[AuthRequest]:
    """CreateTrainingJob and CreateProcessingJob are authorized on the job's ARN, with sagemaker:AddTags for its
    tags, and passing its role is iam:PassRole on the role with iam:PassedToService (SageMaker and IAM's "Actions,
    resources, and condition keys"; "Grant a user permissions to pass a role to an AWS service")."""
    kinds = {"CreateTrainingJob": ("training-job", "TrainingJobName"),
             "CreateProcessingJob": ("processing-job", "ProcessingJobName")}
    if operation not in kinds:
        raise UnknownCallError(f"sagemaker.{operation}")
    resource, name = kinds[operation]
    job = place.arn("sagemaker", f"{resource}/{str(params[name]).lower()}")  # SageMaker ARNs: lower case
    requests = [AuthRequest(f"sagemaker:{operation}", job)]
    if params.get("Tags"):
        requests.append(AuthRequest("sagemaker:AddTags", job))
    requests.append(AuthRequest("iam:PassRole", str(params["RoleArn"]),
                                {"iam:PassedToService": "sagemaker.amazonaws.com"}))
    return requests


def _sts(operation: str, params: Params, place: Place) -> list[AuthRequest]:
    if operation == "GetCallerIdentity":  # needs no permission
        return []
    raise UnknownCallError(f"sts.{operation}")


_SERVICES: dict[str, Mapper] = {
    "s3": _s3, "dynamodb": _dynamodb, "lambda": _lambda, "events": _events, "firehose": _firehose, "sns": _sns,
    "stepfunctions": _stepfunctions,
    "sqs": _sqs, "cloudwatch": _cloudwatch, "sts": _sts, "sagemaker": _sagemaker,
}
