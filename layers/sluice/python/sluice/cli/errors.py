"""The one error path of every `sluice` command: a failure is one line (or one JSON object), never a traceback.

Commands raise :class:`CliError` (or let any exception escape); :class:`ErrorReportingGroup`, the root command's
class, turns it into ``error: <message>`` on stderr, or ``{"error": "<message>"}`` on stdout when the command
line has ``--json``, and the exit status: 2 usage (the command cannot run as typed or configured: click's usage
errors, a ConfigError), 1 refused or failed (an AWS error included), 130 interrupted. ``SLUICE_DEBUG=1`` lets an
unexpected exception's traceback through.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from typer import _click
from typer.core import TyperGroup
from typer.exceptions import Abort

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
ENV_DEBUG = "SLUICE_DEBUG"
JSON_FLAG = "--json"


class CliError(Exception):
    """A command cannot do what it was asked: ``message`` says what to fix; ``details`` join the JSON answer."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, *, exit_code: int | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(CliError):
    """The command cannot run as typed or configured (exit 2)."""

    exit_code = EXIT_USAGE


class RefusedError(CliError):
    """The command was understood and the operation refused or failed (exit 1)."""

    exit_code = EXIT_REFUSED


def one_line(message: str) -> str:
    """``message`` with every run of whitespace (newlines included) made one space."""
    return " ".join(message.split())


def wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asks for JSON output (``--json`` before any ``--``)."""
    for arg in args:
        if arg == "--":
            return False
        if arg == JSON_FLAG:
            return True
    return False


def report(message: str, *, as_json: bool, details: dict[str, Any] | None = None) -> None:
    """Print one error: a JSON object on stdout (nothing else there) or one ``error:`` line on stderr."""
    if as_json:
        sys.stdout.write(json.dumps({**(details or {}), "error": one_line(message)}, default=str) + "\n")
        sys.stdout.flush()
    else:
        sys.stderr.write(f"error: {one_line(message)}\n")
        sys.stderr.flush()


def describe(error: BaseException) -> tuple[str, int, dict[str, Any]]:
    """(message, exit status, JSON details) for anything a command raised."""
    from botocore.exceptions import BotoCoreError, ClientError

    from sluice.config import ConfigError

    if isinstance(error, CliError):
        return error.message, error.exit_code, error.details
    if isinstance(error, _click.exceptions.UsageError):
        context = error.ctx
        hint = f" (see `{context.command_path} --help`)" if context is not None else ""
        return f"{error.format_message().rstrip('.')}{hint}", error.exit_code, {}
    if isinstance(error, ConfigError):  # sluice.toml missing, malformed, or not declaring the model named
        return str(error), EXIT_USAGE, {}
    if isinstance(error, BotoCoreError | ClientError):  # no credentials, a missing bucket or table, no endpoint
        return f"AWS: {error}", EXIT_REFUSED, {"type": type(error).__name__}
    if isinstance(error, _click.exceptions.ClickException):
        return error.format_message(), error.exit_code, {}
    if isinstance(error, Abort):
        return "aborted", EXIT_REFUSED, {}
    return (f"{type(error).__name__}: {error} (unexpected; {ENV_DEBUG}=1 shows the traceback)", EXIT_REFUSED,
            {"type": type(error).__name__})


class ErrorReportingGroup(TyperGroup):
    """The root `sluice` group: runs the command line and reports whatever escapes it through :func:`report`."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        arguments = list(sys.argv[1:] if args is None else args)
        try:
            result = super().main(arguments, prog_name, complete_var, standalone_mode=False,
                                  windows_expand_args=windows_expand_args, **extra)
            code = result if isinstance(result, int) else 0
        except _click.exceptions.NoArgsIsHelpError as error:  # `sluice` alone, or a group alone: its help
            _click.echo(error.format_message())
            code = error.exit_code
        except Exception as error:
            if os.environ.get(ENV_DEBUG) and not isinstance(error, CliError | _click.exceptions.ClickException):
                raise
            message, code, details = describe(error)
            report(message, as_json=wants_json(arguments), details=details)
        if standalone_mode:
            sys.exit(code)
        return code
