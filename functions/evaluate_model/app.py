"""evaluate_model: ModelTrained → ModelEvaluated (approved or rejected, with reasons)."""

from __future__ import annotations

from typing import Any

from sluice.events import DetailType
from sluice.events.sources import SluiceEvent
from sluice.handlers import trigger_handler
from sluice.steps.context import StepContext
from sluice.steps.evaluate import evaluate_candidate

step_context = StepContext.from_env()


def on_model_trained(event: SluiceEvent) -> dict[str, Any]:
    return evaluate_candidate(step_context, event.model, event.version, correlation_id=event.correlation_id)


lambda_handler = trigger_handler("evaluate", step_context.settings, {DetailType.MODEL_TRAINED: on_model_trained})
