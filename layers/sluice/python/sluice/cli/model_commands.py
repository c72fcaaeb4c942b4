"""`sluice models`: list versions (the default, defined in app.py) or `show` one version's model card."""

from __future__ import annotations

import json
import webbrowser
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer._click.core import Context  # the click typer vendors (its TyperGroup's type)
from typer.core import TyperGroup

from sluice.cli import render
from sluice.cli.errors import UsageError
from sluice.cli.target import resolve_target

LIST_COMMAND = "list"
CARDS_DIR = Path(".sluice") / "cards"


class ListByDefault(TyperGroup):
    """A group whose arguments go to ``list`` unless they start with a subcommand (``sluice models NAME``)."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = [LIST_COMMAND, *args]
        return super().parse_args(ctx, args)


models_app = typer.Typer(
    cls=ListByDefault, no_args_is_help=False, pretty_exceptions_enable=False,
    help="List model versions, their statuses, metrics and aliases (`sluice models [NAME] [--history] [--json]`, "
         "the default), or show a version's model card (`sluice models show NAME [VERSION] [--open] [--json]`).",
)


@models_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The model.")],
    version: Annotated[int | None, typer.Argument(help="The version (default: live, else the latest).")] = None,
    open_html: Annotated[bool, typer.Option("--open", help="Save the HTML card locally and open it.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")] = False,
) -> None:
    """Print a model version's card: gate decision, holdout metrics with intervals, slices, tuning trials."""
    import boto3

    from sluice.artifacts import CARD_HTML_FILE, CARD_JSON_FILE
    from sluice.registry import DynamoDBRegistry, RegistryError
    from sluice.storage import ObjectStore, model_artifact_key

    target = resolve_target()
    registry = DynamoDBRegistry(boto3.client("dynamodb"), target.settings.registry_table)
    live = registry.get_alias(name, "live")
    versions = registry.list_versions(name)
    chosen = version or (live.version if live else max((v.version for v in versions), default=None))
    if chosen is None:
        raise UsageError(f"model {name!r} has no versions yet")
    try:
        record = registry.get_version(name, chosen)
    except RegistryError:
        raise UsageError(f"model {name!r} has no version {chosen}") from None
    store = ObjectStore(boto3.client("s3"), target.settings.artifact_bucket)
    key = model_artifact_key(name, chosen, CARD_JSON_FILE)
    if not store.exists(key):
        raise UsageError(f"{name} v{chosen} has no model card yet (it is {record.status.value}; cards are written "
                    "when a version is evaluated)")
    card: dict[str, Any] = {**store.get_json(key), "status": record.status.value,
                            "live": bool(live and live.version == chosen)}
    html_path = None
    if open_html:
        CARDS_DIR.mkdir(parents=True, exist_ok=True)
        html_path = CARDS_DIR / f"{name}-v{chosen}.html"
        html_path.write_bytes(store.get_bytes(model_artifact_key(name, chosen, CARD_HTML_FILE)))
        webbrowser.open(html_path.resolve().as_uri())
    if as_json:
        render.print_json({**card, "html_path": str(html_path) if html_path else None})
        return
    print_card(card)
    if html_path:
        render.console.print(f"HTML card: {html_path}")


def print_card(card: dict[str, Any]) -> None:
    """The card on the terminal: summary, gate, metrics, slices and trials (the HTML adds the plots)."""
    console, gate, training = render.console, card["gate"], card["training"]
    verdict = "[bold green]approved[/bold green]" if gate["approved"] else "[bold red]rejected[/bold red]"
    console.print(f"[bold]{card['model']} v{card['version']}[/bold] — {card['status']}"
                  f"{' (live)' if card.get('live') else ''}; gate {verdict}")
    if card.get("description"):
        console.print(f"[dim]{card['description']}[/dim]")
    promotion = card.get("promotion")
    if promotion:  # sluice.promotion: the same artifact as another stage's version; its gate verdict is that stage's
        console.print(f"promoted from {promotion['source_stage']} v{promotion['source_version']} by "
                      f"{promotion['promoted_by']} at {promotion['promoted_at']} (sha256 "
                      f"{promotion['source_artifact_sha256'][:12]}… verified)")
    search = training.get("search") or {}
    console.print(f"{training['family']} {json.dumps(training['params'], sort_keys=True)}")
    console.print(f"chosen by {training['cv_folds']}-fold CV {training['cv_metric']} over "
                  f"{search.get('trials', 0)} trials ({search.get('method', 'defaults')}, "
                  f"{search.get('pruned', 0)} pruned); data {card['data']['data_version']}, "
                  f"{card['data']['training_rows']} training / {card['data']['holdout_rows']} holdout rows")
    for reason in gate["reasons"]:
        console.print(f"  • {reason}")
    console.print(_metrics_table(card["evaluation"]))
    if card["evaluation"].get("slices"):
        console.print(_slices_table(card["evaluation"]))
    console.print(_trials_table(training))


def _metrics_table(evaluation: dict[str, Any]) -> Table:
    confidence = evaluation.get("confidence") or 0.95
    table = Table(title="holdout metrics", title_justify="left")
    for column in ("metric", "candidate", f"{confidence:.0%} CI", "live"):
        table.add_column(column)
    intervals, live = evaluation.get("intervals") or {}, evaluation.get("live_metrics") or {}
    for name, value in evaluation["metrics"].items():
        interval = intervals.get(name)
        table.add_row(name, _num(value), f"[{_num(interval['low'])}, {_num(interval['high'])}]" if interval else "—",
                      _num(live.get(name)))
    return table


def _slices_table(evaluation: dict[str, Any]) -> Table:
    metric = evaluation["primary_metric"]
    table = Table(title=f"slices ({metric})", title_justify="left")
    for column in ("slice", "rows", "candidate", "live"):
        table.add_column(column)
    live = {(e["column"], e["slice"]): e for e in evaluation.get("live_slices") or []}
    for entry in evaluation["slices"]:
        reference = (live.get((entry["column"], entry["slice"])) or {}).get("metrics") or {}
        table.add_row(entry["slice"], str(entry["rows"]), _num((entry.get("metrics") or {}).get(metric)),
                      _num(reference.get(metric)))
    return table


def _trials_table(training: dict[str, Any]) -> Table:
    table = Table(title=f"trials (CV {training['cv_metric']})", title_justify="left")
    for column in ("#", "family", "state", "score", "hyperparameters"):
        table.add_column(column, overflow="fold")
    for trial in training.get("trials") or []:
        table.add_row(str(trial["number"]), trial["family"], trial["state"], _num(trial["value"]),
                      json.dumps(trial["params"], sort_keys=True))
    return table


def _num(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
