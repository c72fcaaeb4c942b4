"""train_model: DatasetAccepted or the retrain schedule → ModelTrained or TrainingFailed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.idempotency import SCHEDULED_KEY, SLUICE_EVENT_KEY, idempotency_config, persistence_layer
from sluice.observability import logger, metrics, tracer
from sluice.steps.context import StepContext
from sluice.steps.train import train_accepted, train_latest

step_context = StepContext.from_env()
persistence = persistence_layer(step_context.settings)
accepted_config = idempotency_config(SLUICE_EVENT_KEY)
schedule_config = idempotency_config(SCHEDULED_KEY)


@idempotent_function(data_keyword_argument="event", persistence_store=persistence,
                     config=accepted_config)
def on_dataset_accepted(event: dict[str, Any]) -> dict[str, Any]:
    detail = event["detail"]
    return train_accepted(step_context, detail["model"], detail["data_version"],
                          correlation_id=detail["correlation_id"])


@idempotent_function(data_keyword_argument="event", persistence_store=persistence,
                     config=schedule_config)
def on_schedule(event: dict[str, Any]) -> dict[str, Any]:
    rule_arn = (event.get("resources") or [""])[0]
    model = step_context.settings.names.model_of_retrain_rule(rule_arn.rsplit("/", 1)[-1])
    if model is None:
        return {"outcome": "ignored", "reason": f"{rule_arn or 'no rule'} is not a sluice retrain schedule"}
    return train_latest(step_context, model, trigger="schedule", correlation_id=str(event["id"]))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    accepted_config.register_lambda_context(context)
    schedule_config.register_lambda_context(context)
    if event.get("detail-type") == "Scheduled Event":
        result = on_schedule(event=event)
    elif event.get("detail-type") == "DatasetAccepted":
        result = on_dataset_accepted(event=event)
    else:
        raise ValueError(f"train_model cannot handle detail-type {event.get('detail-type')!r}")
    metrics.add_metric(name=f"Training_{result['outcome']}", unit=MetricUnit.Count, value=1)
    logger.info("training finished", extra=result)
    return result
