"""`sluice contract infer` and `sluice validate`: draft a contract; check a local file as the Lambda does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sluice.cli import render
from sluice.cli.errors import CliError, UsageError

contract_app = typer.Typer(help="Data contracts: draft one from a sample.", no_args_is_help=True)

FileArgument = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The data file (CSV, TSV, "
                                                                                 "JSON Lines, Parquet; .gz too).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


@contract_app.command("infer")
def infer(
    file: FileArgument,
    target: Annotated[str | None, typer.Option("--target", "-t", help="The target column (default: the last "
                                                                      "column).")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="The model name for the drafted table.")] = "my-model",
    output: Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False,
                                                help="Write the TOML to this new file instead of stdout.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Draft a [models.<name>] table from a sample file: it loads as is and accepts data like the sample."""
    from sluice.config import ConfigError, load_config_text
    from sluice.data import DatasetReadError
    from sluice.data.infer import InferError, infer_contract
    from sluice.data.infer_toml import contract_document, contract_toml

    if output is not None and output.exists():
        raise UsageError(f"{output} exists; choose a new file (the draft never overwrites a configuration)")
    try:
        with file.open("rb") as handle:
            draft = infer_contract(handle, file.name, target=target)
        text = contract_toml(model, draft, source=file.name)
        load_config_text(text, source="the draft")
    except (DatasetReadError, KeyError, InferError, ConfigError) as error:
        raise UsageError(f"cannot draft a contract: {error.args[0] if isinstance(error, KeyError) else error}") \
            from None
    document = {"model": model, **contract_document(draft)}
    if output is None:
        render.print_json(document) if as_json else print(text, end="")
        return
    output.write_text(json.dumps(document, indent=2) + "\n" if as_json else text, encoding="utf-8")
    render.console.print(f"drafted [bold]{escape(model)}[/bold] ({draft.task}, {draft.rows} sample rows) "
                         f"into {escape(str(output))}")


ValidatedFile = Annotated[Path, typer.Argument(help="The data file (CSV, TSV, JSON Lines, Parquet; .gz too).",
                                               metavar="FILE", show_default=False)]
EXIT_ACCEPTED, EXIT_REJECTED, EXIT_COULD_NOT_RUN = 0, 1, 2


def validate_file(
    file: ValidatedFile,
    model: Annotated[str, typer.Option("--model", "-m", help="The model whose contract applies.")],
    config: Annotated[Path, typer.Option("--config", "-c", help="The project configuration (TOML).")] = Path(
        "sluice.toml"),
    as_json: JsonOption = False,
) -> None:
    """Validate a local file against a model's contract with the Lambda's own code.

    Exit 0 accepted, 1 rejected (the report says why), 2 could not run (missing file, bad config, unknown model).
    """
    from sluice.config import ConfigError, load_config
    from sluice.data import check_file

    try:
        contract = load_config(config).model(model).contract
    except ConfigError as error:
        raise _could_not_run(str(error)) from None
    try:
        with file.open("rb") as handle:
            verdict = check_file(handle, file.name, contract, version=True)
    except OSError as error:
        raise _could_not_run(f"cannot read {file}: {error.strerror or error}") from None
    except Exception as error:  # a crash is exit 2 and one line, never a traceback
        raise _could_not_run(f"validation of {file} could not run: {type(error).__name__}: {error}") from None
    if as_json:
        render.print_json({"file": str(file), "model": model, **verdict.to_dict()})
    else:
        style = "green" if verdict.accepted else "red"
        head, *lines = verdict.summary.splitlines()
        render.console.print(f"[bold {style}]{escape(head)}[/bold {style}]")
        for line in lines:
            render.console.print(escape(line))
        render.console.print(f"contract version {verdict.contract_version}"
                             + (f", data version {verdict.data_version}" if verdict.data_version else ""))
    raise typer.Exit(EXIT_ACCEPTED if verdict.accepted else EXIT_REJECTED)


def _could_not_run(message: str) -> CliError:
    """The error of a run that could not happen (one line on stderr, exit 2: sluice.cli.errors)."""
    return CliError(message, exit_code=EXIT_COULD_NOT_RUN)
