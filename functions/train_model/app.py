"""train_model: DatasetAccepted or the retrain schedule → ModelTrained or TrainingFailed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.handlers import observed
from sluice.idempotency import SCHEDULED_KEY, SLUICE_EVENT_KEY, idempotency_config, persistence_layer
from sluice.steps.context import StepContext
from sluice.steps.train import train_accepted, train_latest

step_context = StepContext.from_env()
persistence = persistence_layer(step_context.settings)
accepted_config = idempotency_config(SLUICE_EVENT_KEY)
schedule_config = idempotency_config(SCHEDULED_KEY)


@idempotent_function(data_keyword_argument="event", persistence_store=persistence, config=accepted_config)
def on_dataset_accepted(event: dict[str, Any]) -> dict[str, Any]:
    detail = event["detail"]
    return train_accepted(step_context, detail["model"], detail["data_version"],
                          correlation_id=detail["correlation_id"])


@idempotent_function(data_keyword_argument="event", persistence_store=persistence, config=schedule_config)
def on_schedule(event: dict[str, Any]) -> dict[str, Any]:
    rule_arn = (event.get("resources") or [""])[0]
    model = step_context.settings.names.model_of_retrain_rule(rule_arn.rsplit("/", 1)[-1])
    if model is None:
        return {"outcome": "ignored", "reason": f"{rule_arn or 'no rule'} is not a sluice retrain schedule"}
    return train_latest(step_context, model, trigger="schedule", correlation_id=str(event["id"]))


@observed("train")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    accepted_config.register_lambda_context(context)
    schedule_config.register_lambda_context(context)
    if event.get("detail-type") == "Scheduled Event":
        return on_schedule(event=event)
    if event.get("detail-type") == "DatasetAccepted":
        return on_dataset_accepted(event=event)
    return {"outcome": "ignored", "reason": f"train_model does not handle {event.get('detail-type')!r}"}
