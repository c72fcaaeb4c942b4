"""`sluice` commands: demo, local, drop, models, predict, rollback, approve, reject, invoke, promote."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from sluice.cli import invoke_command, render
from sluice.cli.approval_commands import approve, reject
from sluice.cli.data_commands import contract_app, validate_file
from sluice.cli.drop_command import drop
from sluice.cli.errors import CliError, ErrorReportingGroup, RefusedError
from sluice.cli.model_commands import LIST_COMMAND, models_app
from sluice.cli.monitoring_commands import drift_app
from sluice.cli.predict_command import predict
from sluice.cli.promote_command import promote
from sluice.cli.target import (
    JOURNAL_FILE,
    clear_local_state,
    resolve_target,
    write_local_state,
)

app = typer.Typer(help="sluice: event-driven, serverless MLOps for AWS — runnable on a laptop. An error is one "
                       "line (a JSON object with --json); exit 2: the command cannot run as typed or configured, "
                       "1: refused.",
                  cls=ErrorReportingGroup, no_args_is_help=True, pretty_exceptions_enable=False)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The project configuration (TOML).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
DEFAULT_CONFIG = Path("sluice.toml")


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    app()


def _port_free(port: int) -> bool:
    """Whether a server may listen on 127.0.0.1:``port`` now (moto's server would otherwise wait forever)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _fail(message: str, code: int = 2) -> CliError:
    """An error for the one error path (sluice.cli.errors) to print as one line."""
    return CliError(message, exit_code=code)


@app.command()
def demo(config: ConfigOption = DEFAULT_CONFIG, as_json: JsonOption = False) -> None:
    """Play the whole model lifecycle on the embedded local AWS and check every step."""
    from sluice.demo import DemoFailedError, run_demo

    printer = render.TimelinePrinter(enabled=not as_json)
    try:
        summary = run_demo(config, printer)
    except DemoFailedError as error:
        raise RefusedError(f"demo failed: {error}", details={"passed": False, "failed": str(error)}) from None
    if as_json:
        render.print_json({
            "passed": summary.passed, "seconds": round(summary.seconds, 2), "live": summary.live,
            "checks": [{"passed": passed, "check": text} for passed, text in summary.checks],
            "versions": {model: [render.version_document(v) for v in versions]
                         for model, versions in summary.versions.items()},
        })
        return
    render.console.print("\n[bold]Summary[/bold]")
    for model, versions in summary.versions.items():
        previous = next((v.version for v in versions if v.status.value == "previous"), None)
        render.console.print(render.versions_table(model, versions, summary.live.get(model), previous))
    passed = sum(1 for ok, _ in summary.checks if ok)
    render.console.print(f"[bold green]demo passed[/bold green]: {passed}/{len(summary.checks)} checks "
                         f"in {summary.seconds:.1f}s")


@app.command()
def local(
    config: ConfigOption = DEFAULT_CONFIG,
    port: Annotated[int, typer.Option(help="HTTP port of the predict endpoint.")] = 8080,
    aws_port: Annotated[int, typer.Option(help="Port of the embedded AWS (moto server).")] = 5566,
    environments: Annotated[int | None, typer.Option(
        min=1, help="At most this many predict execution environments (worker processes) at once; more "
                    "concurrent requests wait for one. Default: $SLUICE_LOCAL_ENVIRONMENTS, else 2 per CPU.")] = None,
) -> None:
    """Start the embedded AWS and the predict endpoint; keep running and print events as they flow."""
    from sluice.config import ConfigError, load_config
    from sluice.local import LocalCloud, TimelineEntry
    from sluice.local.aws_server import AwsServer, AwsServerError
    from sluice.local.http import EndpointServer
    from sluice.local.journal import TimelineJournal

    try:
        load_config(config)
    except ConfigError as error:
        raise _fail(f"{error} (run `sluice local` where sluice.toml is, or pass --config FILE)") from None
    for name, number in (("--aws-port", aws_port), ("--port", port)):
        if not _port_free(number):
            raise _fail(f"port {number} ({name}) is in use by another program: stop it or pass {name} N")
    try:  # in its own process: the endpoint's AWS calls and the environments' are served beside the endpoint
        moto_server = AwsServer(aws_port).start()
    except AwsServerError as error:
        raise _fail(f"{error} (is --aws-port {aws_port} free?)", 1) from None
    printer = render.TimelinePrinter()
    journal = TimelineJournal(JOURNAL_FILE.resolve()).reset()

    def record(entry: TimelineEntry) -> None:
        printer.event(entry)
        journal.append(entry)  # what `sluice drop --wait` follows from another process

    cloud = LocalCloud(config, endpoint_url=f"http://127.0.0.1:{aws_port}", on_record=record,
                       environments=environments).start()
    server = EndpointServer(cloud, port=port).start()
    write_local_state({"aws_endpoint": f"http://127.0.0.1:{aws_port}", "http_url": server.url,
                       "config": str(config.resolve()), "prefix": cloud.settings.prefix, "pid": os.getpid(),
                       "journal": str(journal.path)})
    render.console.print(f"[bold]sluice local[/bold]: embedded AWS at http://127.0.0.1:{aws_port}, "
                         f"predict endpoint at {server.url}/v1/models/<model>:predict")
    render.console.print(f"models: {', '.join(cloud.config.names)} — drop data with "
                         "`sluice drop FILE --model NAME`; Ctrl-C stops")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    next_check = time.monotonic() + 60
    try:
        while not stopping.is_set():
            try:
                if time.monotonic() >= next_check:  # the rate(1 minute) bake-check rules; CloudWatch's alarms
                    next_check += 60
                    cloud.fire_release_checks()
                    cloud.evaluate_alarms()
                cloud.run_until_idle(raise_errors=False)
            except Exception as error:  # keep serving; the timeline shows what failed
                render.console.print(f"[red]dispatch error: {error}[/red]")
            stopping.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        cloud.stop()
        moto_server.stop()
        clear_local_state()


app.command("drop")(drop)
app.add_typer(models_app, name="models")
app.add_typer(drift_app, name="drift")
app.add_typer(contract_app, name="contract")
app.command("validate")(validate_file)


@models_app.command(LIST_COMMAND)
def models(
    name: Annotated[str | None, typer.Argument(help="One model (default: all).")] = None,
    history: Annotated[bool, typer.Option("--history", help="Show the audit trail too.")] = False,
    config: ConfigOption = DEFAULT_CONFIG,
    as_json: JsonOption = False,
) -> None:
    """List model versions, their statuses, metrics and aliases."""
    import boto3

    from sluice.config import load_config
    from sluice.registry import DynamoDBRegistry

    target = resolve_target()
    names = [name] if name else list(load_config(os.environ.get("SLUICE_CONFIG", config)).names)
    registry = DynamoDBRegistry(boto3.client("dynamodb"), target.settings.registry_table)
    documents: dict[str, Any] = {}
    for model in names:
        versions = registry.list_versions(model)
        live, previous = registry.get_alias(model, "live"), registry.get_alias(model, "previous")
        entries = registry.history(model) if history else []
        documents[model] = {"live": live.version if live else None,
                            "previous": previous.version if previous else None,
                            "versions": [render.version_document(v) for v in versions],
                            "history": [entry.__dict__ for entry in entries]}
        if not as_json:
            render.console.print(render.versions_table(model, versions, live.version if live else None,
                                                       previous.version if previous else None))
            if history:
                render.console.print(render.history_table(model, entries))
    if as_json:
        render.print_json(documents)


@models_app.command("history")
def models_history(
    name: Annotated[str, typer.Argument(help="The model.")],
    as_json: JsonOption = False,
) -> None:
    """Show a model's audit trail: every status change, release step and rollback, with its trigger."""
    import boto3

    from sluice.registry import DynamoDBRegistry

    target = resolve_target()
    registry = DynamoDBRegistry(boto3.client("dynamodb"), target.settings.registry_table)
    entries = registry.history(name)
    active = registry.get_deployment(name)
    if as_json:
        render.print_json({"model": name, "history": [entry.__dict__ for entry in entries],
                           "release_in_progress": active.__dict__ if active else None,
                           "queued": [queued.__dict__ for queued in registry.queued_deployments(name)]})
        return
    render.console.print(render.history_table(name, entries))
    if active is not None:
        render.console.print(f"in progress: {active.label}, stage {active.stage + 1}/{active.stages} at "
                             f"{active.weight:.0%}, next check {active.next_check_at[:19]}")


app.command("predict")(predict)


@app.command()
def rollback(
    model: Annotated[str, typer.Argument(help="The model to roll back.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit trail).")] = "manual rollback",
    as_json: JsonOption = False,
) -> None:
    """Move live back to the last known-good version now (as the alarm path does)."""
    from sluice.config import load_config
    from sluice.steps.context import StepContext
    from sluice.steps.rollback import rollback as rollback_step

    resolve_target()
    load_config().model(model)  # an undeclared model is a usage error (sluice.cli.errors)
    result = rollback_step(StepContext.from_env(), model, reason=reason, correlation_id=f"cli-{uuid.uuid4()}")
    render.print_json(result) if as_json else render.console.print(render.describe_event(result) or str(result))
    render.console.print(f"outcome: {result['outcome']}") if not as_json else None


app.command("approve")(approve)
app.command("reject")(reject)
app.command("invoke")(invoke_command.invoke)
app.command("promote")(promote)
