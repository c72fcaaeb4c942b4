"""One decorator stack for every lifecycle handler: logging, metrics, tracing, idempotency, outcome metric."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.idempotency import idempotency_config, persistence_layer
from sluice.observability import logger, metrics, tracer
from sluice.settings import Settings

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
EventFunction = Callable[..., dict[str, Any]]


def observed(step: str) -> Callable[[Handler], Handler]:
    """Logger context, EMF metrics, X-Ray, and a ``<step>_<outcome>`` count for every result."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            result = handler(event, context)
            metrics.add_metric(name=f"{step}_{result.get('outcome', 'done')}", unit=MetricUnit.Count, value=1)
            logger.info(f"{step} finished", extra={"result": result})
            return result

        wrapped = tracer.capture_lambda_handler(run)
        wrapped = metrics.log_metrics(wrapped)
        return logger.inject_lambda_context(wrapped)

    return decorate


def lifecycle_handler(step: str, settings: Settings, event_key: str) -> Callable[[Handler], Handler]:
    """``observed`` plus Powertools Idempotency keyed by ``event_key`` (a JMESPath into the event)."""

    def decorate(handler: Handler) -> Handler:
        once = idempotent(persistence_store=persistence_layer(settings), config=idempotency_config(event_key))
        return observed(step)(once(handler))

    return decorate


def idempotent_on_event(settings: Settings, config: IdempotencyConfig) -> Callable[[EventFunction], EventFunction]:
    """Idempotency for a function taking ``event=``, with a persistence layer of its own.

    Powertools configures a persistence layer once, with the first config it sees, so two functions with
    different keys must never share one.
    """
    decorator: Callable[[EventFunction], EventFunction] = idempotent_function(
        data_keyword_argument="event", persistence_store=persistence_layer(settings), config=config)
    return decorator
