"""detect_drift: compare the live version's captured traffic with its training baseline."""

from __future__ import annotations

import time
from typing import Any

from sluice.clock import iso
from sluice.events import DetailType
from sluice.monitoring import metrics as cw
from sluice.monitoring.baseline import BASELINE_FILE, Baseline
from sluice.monitoring.captures import drift_inputs, of_version, read_captures
from sluice.monitoring.drift import DriftResult, detect_drift
from sluice.monitoring.report import LATEST, drift_prefix, render_html, report_document
from sluice.steps.context import StepContext
from sluice.storage import model_artifact_key

LIVE = "live"


def check_drift(ctx: StepContext, model_name: str, *, correlation_id: str) -> dict[str, Any]:
    """Drift of the last ``window_hours`` of captures vs the baseline; DriftDetected when it drifted."""
    model = ctx.config.model(model_name)
    settings = model.monitoring
    live = ctx.registry.get_alias(model_name, LIVE)
    if live is None:
        return {"outcome": "skipped", "model": model_name, "reason": "no live version"}
    baseline_key = model_artifact_key(model_name, live.version, BASELINE_FILE)
    if not ctx.artifacts.exists(baseline_key):
        return {"outcome": "skipped", "model": model_name, "version": live.version,
                "reason": f"v{live.version} has no training baseline ({baseline_key})"}
    now = ctx.clock()
    until_ms, since_ms = int(now * 1000) + 1, int((now - settings.window_hours * 3600) * 1000)
    captured = of_version(read_captures(ctx.data, model_name, since_ms=since_ms, until_ms=until_ms), live.version)
    if captured.num_rows < settings.min_rows:
        return {"outcome": "insufficient_data", "model": model_name, "version": live.version,
                "rows": captured.num_rows, "min_rows": settings.min_rows}
    started = time.perf_counter()
    baseline = Baseline.from_dict(ctx.artifacts.get_json(baseline_key))
    columns, prediction = drift_inputs(captured, baseline)
    result = detect_drift(baseline, columns, settings, prediction=prediction)
    seconds = time.perf_counter() - started
    stamp = iso(now)
    report = report_document(result, model=model_name, version=live.version, seconds=seconds, checked_at=stamp,
                             window={"from": iso(since_ms / 1000), "to": stamp, "hours": settings.window_hours})
    folder = f"{drift_prefix(model_name)}{stamp.replace(':', '-')}/"
    report["report_key"], report["html_key"] = f"{folder}report.json", f"{folder}report.html"
    ctx.data.put_json(report["report_key"], report)
    ctx.data.put_text(report["html_key"], render_html(report), "text/html; charset=utf-8")
    ctx.data.put_json(f"{drift_prefix(model_name)}{LATEST}", report)
    _publish_metrics(model_name, result)
    summary = {"model": model_name, "version": live.version, "rows": result.rows,
               "drifted_features": list(result.drifted_features), "drifted_share": round(result.drifted_share, 4),
               "prediction_drifted": report["prediction_drifted"], "report_key": report["report_key"]}
    if not result.detected:
        return {"outcome": "no_drift", **summary}
    ctx.events.publish(DetailType.DRIFT_DETECTED, {
        **summary, "html_key": report["html_key"], "retrain": settings.retrain_on_drift,
        "correlation_id": correlation_id,
    })
    return {"outcome": "drift_detected", **summary}


def _publish_metrics(model: str, result: DriftResult) -> None:
    cw.emit({cw.DRIFTED_FEATURE_SHARE: result.drifted_share, cw.DRIFT_DETECTED: float(result.detected)},
            {"model": model})
    if result.prediction is not None:
        cw.emit({cw.PREDICTION_DRIFT: _bounded(result.prediction.value)}, {"model": model})
    for feature in result.features:
        cw.emit({cw.DRIFT_SCORE: _bounded(feature.value)}, {"model": model, "feature": feature.name})


def _bounded(value: float) -> float:
    return min(value, 1e6) if value == value else 0.0
