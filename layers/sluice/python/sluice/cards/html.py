"""Render a model card as one self-contained HTML page (inline CSS, plots as embedded SVG images)."""

from __future__ import annotations

import base64
import json
from html import escape
from typing import Any

from sluice.cards.svg import Series, bar_chart, heatmap, xy_chart

STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1180px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
.muted{color:#666}.badge{display:inline-block;padding:.15rem .6rem;border-radius:1rem;color:#fff;font-weight:bold}
.approved{background:#2e7d32}.rejected{background:#c62828}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}td,th{border:1px solid #ddd;padding:.25rem .5rem;
text-align:left}th{background:#f5f5f5}.pass{color:#2e7d32}.fail{color:#c62828;font-weight:bold}
.plots{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0;border:1px solid #eee;padding:.3rem}
figcaption{font-size:.8rem;color:#555;max-width:380px}code{font-size:.85rem}
details{margin:.5rem 0}
"""


def render_html(card: dict[str, Any]) -> str:
    """The card as HTML; every plot is an ``<img class="plot">`` holding a base64 SVG data URI."""
    gate = card["gate"]
    title = f"{card['model']} v{card['version']}"
    badge = "approved" if gate["approved"] else "rejected"
    sections = [
        f"<h1>Model card: {escape(title)} <span class='badge {badge}'>{badge}</span></h1>",
        f"<p class='muted'>{escape(card.get('description') or '')}</p>",
        _summary(card),
        "<h2>Gate decision</h2>",
        "<ul>" + "".join(f"<li>{escape(reason)}</li>" for reason in gate["reasons"]) + "</ul>",
        _checks(gate["checks"]),
        "<h2>Holdout metrics</h2>",
        _metrics(card["evaluation"]),
        _slices(card["evaluation"]),
        "<h2>Plots</h2>",
        "<div class='plots'>" + "".join(_figure(*plot) for plot in _plots(card)) + "</div>",
        "<h2>Tuning trials</h2>",
        _trials(card["training"]),
        "<h2>Data and artifacts</h2>",
        _data(card),
        *_promotion(card.get("promotion")),
    ]
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)} — model card"
            f"</title><style>{STYLE}</style></head><body>{''.join(sections)}</body></html>")


def _summary(card: dict[str, Any]) -> str:
    training, data = card["training"], card["data"]
    search = training.get("search") or {}
    rows = [
        ("task", card["task"]),
        ("family", training.get("family")),
        ("hyperparameters", json.dumps(training.get("params"), sort_keys=True)),
        ("selected by", f"{training.get('cv_folds')}-fold CV {training.get('cv_metric')}; search: "
                        f"{search.get('method', 'defaults')} ({search.get('trials', 0)} trials, "
                        f"{search.get('pruned', 0)} pruned)"),
        ("data version", data.get("data_version")),
        ("trained on", _window(data)),
        ("rows", f"{data.get('training_rows')} training, {data.get('holdout_rows')} holdout ({data.get('holdout')})"),
        ("created", card.get("created_at")),
        ("shipped model", _refit(card.get("refit") or {})),
    ]
    return _table(("", ""), rows, header=False)


def _window(data: dict[str, Any]) -> str:
    versions, window = data.get("data_versions") or [], data.get("window") or {}
    mode = window.get("mode", "snapshot")
    limits = []
    if window.get("window_drops"):
        limits.append(f"last {window['window_drops']} drops")
    if window.get("window_days"):
        limits.append(f"last {window['window_days']:g} days")
    scope = f"{mode}: {', '.join(limits)}" if limits else mode
    return f"{len(versions)} accepted version(s) ({scope}): " + ", ".join(str(version) for version in versions)


def _refit(refit: dict[str, Any]) -> str:
    if refit.get("applied"):
        return (f"refit on train + holdout ({refit.get('rows')} rows) after the gate; holdout metrics below are "
                f"the gated model's")
    if refit.get("configured"):
        return f"the gated model (refit not applied: {refit.get('reason', 'unknown')})"
    return "the gated model"


def _checks(checks: list[dict[str, Any]]) -> str:
    rows = [(check["name"], _num(check.get("value")), _num(check.get("threshold")),
             _mark(bool(check["passed"]))) for check in checks]
    return _table(("check", "value", "threshold", "result"), rows) if rows else ""


def _metrics(evaluation: dict[str, Any]) -> str:
    intervals, live = evaluation.get("intervals") or {}, evaluation.get("live_metrics") or {}
    confidence = evaluation.get("confidence") or 0.95
    live_head = f"live v{evaluation['live_version']}" if evaluation.get("live_version") else "live"
    rows = []
    for name, value in evaluation["metrics"].items():
        interval = intervals.get(name)
        ci = f"[{_num(interval['low'])}, {_num(interval['high'])}]" if interval else "—"
        rows.append((name, _num(value), ci, _num(live.get(name))))
    return _table(("metric", "candidate", f"{confidence:.0%} bootstrap CI", live_head), rows)


def _slices(evaluation: dict[str, Any]) -> str:
    slices = evaluation.get("slices") or []
    if not slices:
        return "<p class='muted'>No slice columns are declared.</p>"
    metric = evaluation["primary_metric"]
    live = {(e["column"], e["slice"]): e for e in evaluation.get("live_slices") or []}
    rows = [(entry["slice"], entry["rows"], _num((entry.get("metrics") or {}).get(metric)),
             _num(((live.get((entry["column"], entry["slice"])) or {}).get("metrics") or {}).get(metric)))
            for entry in slices]
    return "<h3>Slices</h3>" + _table(("slice", "rows", f"{metric}", f"live {metric}"), rows)


def _plots(card: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(id, caption, svg)`` of every plot the card has data for."""
    plots, figures = card.get("plots") or {}, []
    if plots.get("kind") == "classification":
        positive = plots["positive"]
        figures.append(("roc", f"ROC curve ({positive}); dashed: chance",
                        xy_chart("ROC curve", [Series("ROC", plots["roc"])], "false positive rate",
                                 "true positive rate", x_range=(0, 1), y_range=(0, 1.02),
                                 reference=[[0, 0], [1, 1]])))
        figures.append(("pr", f"Precision-recall curve ({positive}); dashed: prevalence",
                        xy_chart("Precision-recall curve", [Series("PR", plots["pr"])], "recall", "precision",
                                 x_range=(0, 1), y_range=(0, 1.02),
                                 reference=[[0, plots["prevalence"]], [1, plots["prevalence"]]])))
        confusion = plots["confusion"]
        figures.append(("confusion", "Confusion matrix on the holdout (rows: actual, columns: predicted)",
                        heatmap("Confusion matrix", confusion["labels"], confusion["matrix"], "predicted",
                                "actual")))
        calibration = [[b["predicted"], b["observed"]] for b in plots["calibration"]]
        figures.append(("calibration", "Calibration: observed frequency per bin of predicted probability",
                        xy_chart("Calibration", [Series("model", calibration), Series("bins", calibration,
                                                                                      scatter=True)],
                                 "predicted probability", "observed frequency", x_range=(0, 1),
                                 y_range=(0, 1.02), reference=[[0, 0], [1, 1]])))
    elif plots.get("kind") == "regression":
        actual_vs_predicted = [[truth, predicted] for predicted, truth in plots["points"]]
        residuals = [[predicted, truth - predicted] for predicted, truth in plots["points"]]
        low = min(min(point) for point in actual_vs_predicted)
        high = max(max(point) for point in actual_vs_predicted)
        figures.append(("predicted", "Predicted against actual on the holdout; dashed: perfect prediction",
                        xy_chart("Predicted vs actual", [Series("rows", actual_vs_predicted, scatter=True)],
                                 "actual", "predicted", reference=[[low, low], [high, high]])))
        left = min(point[0] for point in residuals)
        right = max(point[0] for point in residuals)
        figures.append(("residuals", "Residuals (actual - predicted) against the prediction",
                        xy_chart("Residuals", [Series("rows", residuals, scatter=True)], "predicted",
                                 "residual", reference=[[left, 0], [right, 0]])))
    importance = card.get("importance") or {}
    if importance:
        items = [(name, value["mean"], value["std"]) for name, value in importance.items()]
        metric = card["evaluation"]["primary_metric"]
        figures.append(("importance", f"Permutation importance: how much {metric} worsens when a feature is "
                                      "shuffled (top 12, with standard deviation)",
                        bar_chart("Feature importance", items, f"{metric} drop")))
    explained = card.get("explanation_importance") or {}
    if explained:
        figures.append(("explanations", "Explanation importance: each feature's mean |contribution| in "
                                                  "the model's :explain answers over the holdout (top 12)",
                        bar_chart("Explanation importance", [(name, value, 0.0) for name, value in explained.items()],
                                  "mean |contribution|")))
    return figures


def _figure(plot_id: str, caption: str, svg: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f"<figure><img class='plot' id='plot-{plot_id}' width='380' height='300' alt='{escape(caption)}' "
            f"src='data:image/svg+xml;base64,{data}'><figcaption>{escape(caption)}</figcaption></figure>")


def _trials(training: dict[str, Any]) -> str:
    trials = training.get("trials") or []
    search = training.get("search") or {}
    budget = search.get("budget")
    head = (f"<p>{escape(str(search.get('method', 'defaults')))}; sampler {escape(str(search.get('sampler')))}, "
            f"pruner {escape(str(search.get('pruner')))}, budget {escape(json.dumps(budget))}; best trial "
            f"#{search.get('best_trial')}. CV metric: {escape(str(training.get('cv_metric')))}.</p>")
    rows = [(trial["number"], trial["family"], trial["state"], _num(trial["value"]),
             json.dumps(trial["params"], sort_keys=True), trial.get("duration_s")) for trial in trials]
    table = _table(("#", "family", "state", "CV score", "hyperparameters", "seconds"), rows)
    return head + (f"<details open><summary>{len(trials)} trials</summary>{table}</details>" if rows else "")


def _data(card: dict[str, Any]) -> str:
    data, artifacts = card["data"], card["artifacts"]
    features = ", ".join(f"{item['name']} ({item['type']})" for item in data["features"])
    rows = [("target", data["target"]), ("features", features), ("serving", artifacts.get("serving")),
            ("ONNX sha256", artifacts.get("onnx_sha256")),
            ("ONNX vs scikit-learn max |diff|", _num(artifacts.get("onnx_max_abs_diff"))),
            ("code version", card["training"].get("code_version"))]
    return _table(("", ""), rows, header=False)


def _promotion(promotion: dict[str, Any] | None) -> list[str]:
    """The lineage of a version promoted from another stage (``sluice.promotion``): where from, what, who, when."""
    if not promotion:
        return []
    rows = [("from", f"{promotion.get('source_stage')} v{promotion.get('source_version')} "
                     f"({promotion.get('source_status')})"),
            ("to", f"{promotion.get('target_stage')} v{promotion.get('target_version')}"),
            ("artifact sha256", promotion.get("source_artifact_sha256")),
            ("data version", promotion.get("source_data_version")),
            ("promoted by", promotion.get("promoted_by")), ("promoted at", promotion.get("promoted_at")),
            ("files verified", len(promotion.get("files_sha256") or {}))]
    return ["<h2>Promotion</h2>", "<p class='muted'>The gate's verdict below is the source stage's: the artifact is "
            "the same file (sha256 verified), not retrained or re-gated.</p>", _table(("", ""), rows, header=False)]


def _table(headers: tuple[str, ...], rows: list[tuple[Any, ...]], *, header: bool = True) -> str:
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _cell(value: Any) -> str:
    return value if isinstance(value, str) and value.startswith("<span") else escape(str("—" if value is None
                                                                                          else value))


def _mark(passed: bool) -> str:
    return "<span class='pass'>pass</span>" if passed else "<span class='fail'>FAIL</span>"


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)
