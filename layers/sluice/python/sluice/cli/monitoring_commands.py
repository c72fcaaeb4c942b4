"""`sluice drift report NAME`: the latest drift report of a model (terminal table, JSON, or the HTML page)."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from sluice.cli import render
from sluice.cli.errors import RefusedError
from sluice.cli.target import resolve_target

REPORTS_DIR = Path(".sluice") / "drift"
LATEST_KEY = "drift/{model}/latest.json"  # sluice.monitoring.report.LATEST (not imported: keeps the CLI light)

drift_app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                        help="Drift detection: captured traffic compared with the training baseline.")


@drift_app.command("report")
def report(
    name: Annotated[str, typer.Argument(help="The model.")],
    open_html: Annotated[bool, typer.Option("--open", help="Save the HTML report locally and open it.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")] = False,
) -> None:
    """Show the latest drift report: verdict, per-feature statistics against thresholds, where the HTML is."""
    import boto3

    from sluice.storage import ObjectStore

    target = resolve_target()
    store = ObjectStore(boto3.client("s3"), target.settings.data_bucket)
    key = LATEST_KEY.format(model=name)
    if not store.exists(key):
        raise RefusedError(f"no drift report for {name!r} yet (detect_drift writes s3://{store.bucket}/{key} on its "
                      "schedule)")
    document: dict[str, Any] = store.get_json(key)
    html_path = None
    if open_html:
        REPORTS_DIR.mkdir(parents=True, exist_ok=True)
        html_path = REPORTS_DIR / f"{name}-v{document['version']}.html"
        html_path.write_bytes(store.get_bytes(document["html_key"]))
        webbrowser.open(html_path.resolve().as_uri())
    if as_json:
        render.print_json({**document, "html_path": str(html_path) if html_path else None})
        return
    print_report(document, f"s3://{store.bucket}/{document['html_key']}")
    if html_path:
        render.console.print(f"HTML report: {html_path}")


def print_report(document: dict[str, Any], html_uri: str) -> None:
    console = render.console
    verdict = "[bold red]drift detected[/bold red]" if document["detected"] else "[bold green]no drift[/bold green]"
    console.print(f"[bold]{document['model']} v{document['version']}[/bold] — {verdict}; "
                  f"{len(document['drifted_features'])}/{len(document['features'])} features drifted "
                  f"(share {document['drifted_share']:.2f}, detect at {document['drift_share']}); prediction "
                  f"drifted: {'yes' if document['prediction_drifted'] else 'no'}")
    console.print(f"[dim]{document['rows']} captured rows, {document['window']['from']} → {document['window']['to']}; "
                  f"checked {document['checked_at']} in {document['seconds']} s; HTML {html_uri}[/dim]")
    table = Table(title="per-column drift", title_justify="left")
    for column in ("column", "kind", "method", "value", "threshold", "drifted", "other statistics"):
        table.add_column(column)
    columns = [*document["features"], *([document["prediction"]] if document.get("prediction") else [])]
    for column in columns:
        others = ", ".join(f"{k}={_num(v)}" for k, v in column["statistics"].items() if k != column["method"])
        table.add_row(column["name"], column["kind"], column["method"], _num(column["value"]),
                      _num(column["threshold"]), "[red]yes[/red]" if column["drifted"] else "no", others)
    console.print(table)


def _num(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4g}"
