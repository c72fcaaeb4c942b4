"""predict: POST /v1/models/<model>:predict through alias live, served from the pinned model (ONNX; the
scikit-learn fallback only where the endpoint ships as the ML image, see deployment.endpoint_package).

Slim by design: no pandas, pyarrow or scipy on this import path, and no boto3 (botocore makes the clients). AWS
clients are made on first use (S3 when the pinned model loads at init; DynamoDB, and the registry module, at the
first shadow lookup and Firehose at the first capture flush, both after a response). Release telemetry, shadow
scoring and capture run after the response (``sluice.predict.after``: on Lambda an internal extension runs them
before the environment is frozen).
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.artifacts import load_verified_model
from sluice.endpoint.pinning import PinnedModel
from sluice.lazy import aws_client
from sluice.observability import logger, metrics
from sluice.predict.capture import buffer_from_env
from sluice.predict.extension import after_response
from sluice.predict.faults import fault_reporter
from sluice.predict.release import ReleaseTelemetry, registry_shadow_source
from sluice.predict.service import PredictService
from sluice.serving.model import ServedModel
from sluice.serving.reading import ValueViolation
from sluice.settings import ENV_ARTIFACT_BUCKET, ENV_REGISTRY_TABLE
from sluice.storage.objects import ObjectStore

if TYPE_CHECKING:
    from sluice.registry.store import RegistryStore

artifacts = ObjectStore(aws_client("s3"), os.environ[ENV_ARTIFACT_BUCKET])
dynamodb = aws_client("dynamodb")
after = after_response(os.environ)


def load_pinned(pinned: PinnedModel) -> ServedModel:
    return load_verified_model(artifacts, pinned.model, pinned.version, pinned.sha256)


@cache
def registry() -> RegistryStore:
    from sluice.registry.dynamodb import DynamoDBRegistry  # the first shadow lookup, after a response

    return DynamoDBRegistry(dynamodb, os.environ[ENV_REGISTRY_TABLE])


pinned_model = PinnedModel.from_env(os.environ)
# per-version prediction metrics for bake checks, and shadow scoring while a shadow release is in progress
telemetry = ReleaseTelemetry(
    os.environ["SLUICE_MODEL"], pinned_model, loader=load_pinned, shadow_source=registry_shadow_source(registry),
    log=lambda record: logger.info("shadow prediction", extra=record),
)


def count_violations(violations: tuple[ValueViolation, ...]) -> None:
    """A flagged request's contract violations, counted (the alarmable signal of out-of-contract traffic)."""
    metrics.add_metric(name="ContractViolations", unit=MetricUnit.Count, value=len(violations))


# a request that fails unexpectedly is answered 500, logged with its request id and counted as ServerFaults
faults = fault_reporter(os.environ["SLUICE_MODEL"], pinned_model,
                        lambda message, fields, error: logger.error(message, extra=fields, exc_info=error))
capture = buffer_from_env(os.environ, lambda: aws_client("firehose"))
if capture is not None:
    after.on_shutdown(capture.flush)
service = PredictService(os.environ["SLUICE_MODEL"], pinned_model, load_pinned, observer=telemetry.observe,
                         capture=capture, on_fault=faults, on_violations=count_violations, defer=after.defer)
service.warm()


# traced by Lambda's active tracing (its Init and Invocation segments), not the X-Ray SDK: the request path is
# in-process compute, and the SDK's import is a noticeable share of the cold start
@logger.inject_lambda_context
@metrics.log_metrics
def answer(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = service.handle(event)
    metrics.add_metric(name=f"Responses_{response['statusCode'] // 100}xx", unit=MetricUnit.Count, value=1)
    return response


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer, then hand the post-response work over (once Powertools has written the request's metrics, so the
    two never write to the log at the same time)."""
    with after.invocation():
        return answer(event, context)
