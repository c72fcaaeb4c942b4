"""record_feedback: labels dropped under feedback/<model>/ → live quality per model version (and, with
``learn_from_feedback``, an accepted dataset of the labelled traffic)."""

from __future__ import annotations

import posixpath
from typing import Any

from sluice.events import DetailType
from sluice.monitoring import metrics as cw
from sluice.monitoring.captures import read_captures
from sluice.monitoring.feedback import (
    QUALITY,
    FeedbackError,
    join_feedback,
    labelled_rows,
    parse_feedback_key,
    positive_class,
    quality_by_version,
    quality_metrics,
    read_feedback,
)
from sluice.steps.context import StepContext
from sluice.steps.feedback_data import accept_feedback_rows

DAY_MS = 24 * 3600 * 1000


def record_feedback(ctx: StepContext, key: str, *, correlation_id: str) -> dict[str, Any]:
    """Join the labels in ``key`` with the captured predictions; publish live metrics and LiveQualityMeasured."""
    key = ctx.data.stored_key(key)
    model_name = parse_feedback_key(key)
    if model_name is None or model_name not in ctx.config.models:
        return {"outcome": "ignored", "key": key, "reason": "not feedback/<configured model>/<file>"}
    model = ctx.config.model(model_name)
    try:
        feedback = read_feedback(ctx.data.get_bytes(key), key, model.contract.target)
    except FeedbackError as error:
        return {"outcome": "rejected", "model": model_name, "key": key, "reason": str(error)}
    now_ms = int(ctx.clock() * 1000)
    since_ms, until_ms = now_ms - model.monitoring.feedback_lookback_days * DAY_MS, now_ms + 1
    captures = read_captures(ctx.data, model_name, since_ms=since_ms, until_ms=until_ms)
    joined = join_feedback(feedback, captures)
    if joined.empty:
        return {"outcome": "unmatched", "model": model_name, "key": key, "labels": len(feedback)}
    learned = None
    if model.data.learn_from_feedback:  # the labelled traffic becomes training data of the model
        learned = accept_feedback_rows(ctx, model, labelled_rows(feedback, captures, model.contract),
                                       feedback_key=key, since_ms=since_ms, until_ms=until_ms,
                                       correlation_id=correlation_id)
    classes = sorted({str(v) for v in joined["label"]} | {str(v) for v in joined["prediction"]})
    positive = positive_class(model.positive_class, classes) if model.task == "classification" else None
    versions = quality_by_version(joined, task=model.task, positive=positive)
    overall = quality_metrics(joined, task=model.task, positive=positive)
    for quality in versions:
        cw.emit(_named(quality.metrics), {"model": model_name, "version": quality.version})
    cw.emit(_named(overall), {"model": model_name})
    cw.emit({cw.FEEDBACK_ROWS: float(len(joined))}, {"model": model_name})
    document = {"model": model_name, "feedback_key": key, "labels": len(feedback), "matched": len(joined),
                "metrics": overall, "by_version": [q.__dict__ for q in versions], "dataset": learned}
    stem = posixpath.basename(key).rsplit(".", 1)[0]
    report_key = f"{QUALITY}/{model_name}/{now_ms}-{stem}.json"
    ctx.data.put_json(report_key, document)
    ctx.events.publish(DetailType.LIVE_QUALITY_MEASURED, {
        "model": model_name, "matched": len(joined), "metrics": overall,
        "by_version": {q.version: q.metrics for q in versions}, "report_key": report_key,
        "dataset": learned, "correlation_id": correlation_id,
    })
    return {"outcome": "measured", "model": model_name, "matched": len(joined), "metrics": overall,
            "report_key": report_key, "dataset": learned}


def _named(values: dict[str, float]) -> dict[str, float]:
    return {cw.LIVE_METRIC_NAMES[name]: value for name, value in values.items() if name in cw.LIVE_METRIC_NAMES}
