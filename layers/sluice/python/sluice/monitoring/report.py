"""The drift report: a JSON document and a self-contained HTML page with a plot per feature."""

from __future__ import annotations

import html
import math
from dataclasses import asdict
from typing import Any

from sluice.monitoring.drift import DriftResult, FeatureDrift

DRIFT = "drift"
LATEST = "latest.json"
PLOT_WIDTH = 520
PLOT_HEIGHT = 120


def drift_prefix(model: str) -> str:
    return f"{DRIFT}/{model}/"


def report_document(result: DriftResult, *, model: str, version: int, window: dict[str, Any],
                    seconds: float, checked_at: str) -> dict[str, Any]:
    """The JSON report (finite numbers only, so it stays valid JSON)."""
    return {
        "model": model, "version": version, "checked_at": checked_at, "window": window, "rows": result.rows,
        "detected": result.detected, "drift_share": result.drift_share,
        "drifted_share": round(result.drifted_share, 6), "drifted_features": list(result.drifted_features),
        "prediction_drifted": bool(result.prediction and result.prediction.drifted),
        "seconds": round(seconds, 4),
        "features": [_feature(feature) for feature in result.features],
        "prediction": None if result.prediction is None else _feature(result.prediction),
    }


def _feature(feature: FeatureDrift) -> dict[str, Any]:
    document = asdict(feature)
    document["value"] = _finite(feature.value)
    document["statistics"] = {name: _finite(value) for name, value in feature.statistics.items()}
    document["reference"] = [round(v, 6) for v in feature.reference]
    document["current"] = [round(v, 6) for v in feature.current]
    return document


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else (1e308 if math.isinf(value) else round(value, 6))


def render_html(report: dict[str, Any]) -> str:
    """A single HTML file (no scripts, no external assets): summary, table, one bar plot per column."""
    verdict = "drift detected" if report["detected"] else "no drift"
    columns = [*report["features"], *([report["prediction"]] if report["prediction"] else [])]
    rows = "".join(
        f"<tr class={'drift' if c['drifted'] else 'ok'}><td>{_e(c['name'])}</td><td>{c['kind']}</td>"
        f"<td>{c['method']}</td><td>{_num(c['value'])}</td><td>{_num(c['threshold'])}</td>"
        f"<td>{'yes' if c['drifted'] else 'no'}</td><td>"
        + ", ".join(f"{k}={_num(v)}" for k, v in c["statistics"].items()) + "</td></tr>"
        for c in columns
    )
    plots = "".join(
        f"<section><h3>{_e(c['name'])} — {c['method']} {_num(c['value'])} "
        f"({'drifted' if c['drifted'] else 'stable'})</h3>{_bars(c)}</section>" for c in columns
    )
    window = report["window"]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>sluice drift: {_e(report['model'])}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}}tr.drift td{{background:#fde2e1}}
section{{display:inline-block;margin:1em 1em 0 0}}h3{{font-size:13px;margin:0}}.ref{{fill:#8aa9d6}}
.cur{{fill:#e07b39}}</style></head><body>
<h1>Drift report — {_e(report['model'])} v{report['version']}: {verdict}</h1>
<p>Checked {_e(report['checked_at'])} over {report['rows']} captured rows ({_e(window.get('from', ''))} →
{_e(window.get('to', ''))}); {len(report['drifted_features'])} of {len(report['features'])} features drifted
(share {report['drifted_share']:.2f}, threshold {report['drift_share']}); prediction drifted:
{'yes' if report['prediction_drifted'] else 'no'}. Computed in {report['seconds']} s.</p>
<p><svg width="12" height="12"><rect class="ref" width="12" height="12"/></svg> training baseline
<svg width="12" height="12"><rect class="cur" width="12" height="12"/></svg> live traffic</p>
<table><tr><th>column</th><th>kind</th><th>method</th><th>value</th><th>threshold</th><th>drifted</th>
<th>all statistics</th></tr>{rows}</table>{plots}</body></html>
"""


def _bars(column: dict[str, Any]) -> str:
    reference, current, labels = column["reference"], column["current"], column["labels"]
    count = max(len(reference), 1)
    top = max([*reference, *current, 1e-9])
    slot = PLOT_WIDTH / count
    bar = max(slot / 2 - 1, 1)
    shapes = []
    for index in range(count):
        x = index * slot
        for offset, values, css in ((0.0, reference, "ref"), (bar, current, "cur")):
            share = values[index] if index < len(values) else 0.0
            height = (PLOT_HEIGHT - 14) * share / top
            label = _e(labels[index]) if index < len(labels) else ""
            shapes.append(f'<rect class="{css}" x="{x + offset:.1f}" y="{PLOT_HEIGHT - 14 - height:.1f}" '
                          f'width="{bar:.1f}" height="{height:.1f}"><title>{label}: {share:.3f}</title></rect>')
    return (f'<svg width="{PLOT_WIDTH}" height="{PLOT_HEIGHT}" role="img">{"".join(shapes)}'
            f'<line x1="0" x2="{PLOT_WIDTH}" y1="{PLOT_HEIGHT - 14}" y2="{PLOT_HEIGHT - 14}" stroke="#999"/>'
            f'<text x="0" y="{PLOT_HEIGHT - 2}" font-size="10">{_e(labels[0]) if labels else ""}</text>'
            f'<text x="{PLOT_WIDTH}" y="{PLOT_HEIGHT - 2}" font-size="10" text-anchor="end">'
            f'{_e(labels[-1]) if labels else ""}</text></svg>')


def _num(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _e(text: Any) -> str:
    return html.escape(str(text))
