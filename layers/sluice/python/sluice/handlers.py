"""The edge of every trigger function: parse the event once, route each item, run it once, report the outcome.

- Items of a shape the function acts on run its action under Powertools Idempotency, keyed per shape.
- An event not for sluice (unknown shape or source, ``s3:TestEvent``, or an action answering ``ignored``) is
  acknowledged with one log line and a ``<step>_ignored`` metric, never raised.
- An event for sluice that cannot be acted on (``Malformed``, or an action raising ``EventError``) is one error
  line, a ``<step>_error`` metric and an ``error`` result: not retried, since a retry cannot fix it, and parked
  once, with the reason, in the function's dead-letter queue (``sluice.events.dead_letters``).
- A duplicate delivery returns the stored result (counted as ``<step>_replayed``).
- Anything else an action raises is retriable: direct invocations raise (Lambda retries, then the DLQ); in an SQS
  batch only that record is reported in ``batchItemFailures`` (Powertools batch processing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.events.dead_letters import DeadLetters, dead_letters_from_env
from sluice.events.sources import (
    Actionable,
    EventError,
    Item,
    Malformed,
    S3TestNotification,
    Unrecognised,
    is_sqs_batch,
    parse,
    parse_sqs_record,
)
from sluice.idempotency import idempotency_config, persistence_layer, replays_here
from sluice.observability import logger, metrics, tracer
from sluice.settings import Settings

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
Action = Callable[[Any], dict[str, Any]]


class TriggerEdge:
    """One function's edge: ``routes`` maps an item's route (an S3 or schedule kind, a detail-type) to its action."""

    def __init__(self, step: str, settings: Settings, routes: Mapping[str, Action], *,
                 dead_letters: DeadLetters | None = None) -> None:
        self.step = step
        self.routes = dict(routes)
        self.dead_letters = dead_letters
        self.config = idempotency_config()
        # the step names the key, so two functions acting on the same event never share a record
        self._once: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="key", persistence_store=persistence_layer(settings), config=self.config,
            key_prefix=f"sluice.{step}")(self._act)
        self._batch = BatchProcessor(event_type=EventType.SQS)

    def handle(self, event: Any, context: LambdaContext) -> dict[str, Any]:
        self.config.register_lambda_context(context)
        if isinstance(event, Mapping) and is_sqs_batch(event):
            return dict(process_partial_response(event=dict(event), record_handler=self._sqs_record,
                                                 processor=self._batch, context=context))
        results = [self.run(item, event) for item in parse(event, request_id=str(context.aws_request_id))]
        return results[0] if len(results) == 1 else {"outcome": "batch", "results": results}

    def run(self, item: Item, event: Any = None) -> dict[str, Any]:
        """One item (of ``event``, as delivered): ignored, refused, or acted on once."""
        if isinstance(item, Malformed):
            return self._refused(item.error, event)
        if isinstance(item, Unrecognised):
            return self._reported({"outcome": "ignored", "reason": f"not for sluice: {item.description}"})
        if isinstance(item, S3TestNotification):
            return self._reported({"outcome": "ignored", "reason": f"s3:TestEvent of bucket {item.bucket}"})
        if item.route not in self.routes:
            return self._reported({"outcome": "ignored", "reason": f"{self.step} does not act on {item.route!r}"})
        replays = replays_here()
        try:
            result = self._once(key={"key": list(item.idempotency_key)}, item=item)
        except EventError as error:
            return self._refused(str(error), event)
        if replays_here() > replays:  # a duplicate delivery: counted as such, not as a second outcome
            metrics.add_metric(name=f"{self.step}_replayed", unit=MetricUnit.Count, value=1)
            return result
        return self._reported(result)

    def _act(self, *, key: dict[str, Any], item: Actionable) -> dict[str, Any]:
        return self.routes[item.route](item)

    def _sqs_record(self, record: SQSRecord) -> list[dict[str, Any]]:
        return [self.run(item, record.raw_event) for item in parse_sqs_record(record)]

    def _reported(self, result: dict[str, Any]) -> dict[str, Any]:
        outcome = str(result.get("outcome", "done"))
        metrics.add_metric(name=f"{self.step}_{outcome}", unit=MetricUnit.Count, value=1)
        if outcome == "ignored":
            logger.info(f"{self.step} ignored: {result.get('reason', '')}")
        else:
            logger.info(f"{self.step} finished", extra={"result": result})
        return result

    def _refused(self, error: str, event: Any) -> dict[str, Any]:
        line = " ".join(error.split())  # one line, whatever the event held
        metrics.add_metric(name=f"{self.step}_error", unit=MetricUnit.Count, value=1)
        logger.error(f"{self.step} refused the event: {line}")
        if self.dead_letters is None or event is None:
            return {"outcome": "error", "error": line}
        self.dead_letters.park(self.step, line, event)  # if this fails, the raise makes the event retriable
        return {"outcome": "error", "error": line, "parked": True}


def trigger_handler(step: str, settings: Settings, routes: Mapping[str, Action]) -> Handler:
    """A Lambda handler for ``routes``, with logger context, EMF metrics and X-Ray."""
    edge = TriggerEdge(step, settings, routes, dead_letters=dead_letters_from_env())

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return edge.handle(event, context)

    wrapped = tracer.capture_lambda_handler(lambda_handler)
    wrapped = metrics.log_metrics(wrapped)
    handler: Handler = logger.inject_lambda_context(wrapped)
    return handler
