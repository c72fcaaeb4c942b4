"""The one error path of the `sluice` command line (sluice.cli.errors): one line or one JSON object, the exit."""

from __future__ import annotations

import json
from typing import Annotated

import pytest
import typer
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from sluice.cli.errors import ENV_DEBUG, ErrorReportingGroup, RefusedError, UsageError, one_line, wants_json

runner = CliRunner()
probe = typer.Typer(cls=ErrorReportingGroup, pretty_exceptions_enable=False)


@probe.command()
def explode(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    raise RuntimeError("the disk\nis full")


@probe.command()
def refuse(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    raise RefusedError("not dropped: unknown model 'x'", details={"dropped": None})


@probe.command()
def aws(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    raise ClientError({"Error": {"Code": "NoSuchBucket", "Message": "The specified bucket does not exist"}},
                      "PutObject")


@probe.command()
def misuse(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    raise UsageError("no endpoint URL")


@probe.command()
def finish(code: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    typer.echo(json.dumps({"done": True}) if as_json else "done")
    raise typer.Exit(code)


def test_an_unexpected_exception_is_one_line_with_exit_1() -> None:
    # GIVEN a command that fails with an exception nobody expected WHEN it runs
    result = runner.invoke(probe, ["explode"])
    # THEN stderr has one line naming the exception (newlines folded), stdout nothing, exit 1
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"error: RuntimeError: the disk is full (unexpected; {ENV_DEBUG}=1 shows the traceback)\n"


def test_an_aws_error_is_one_line_naming_the_aws_error_with_exit_1() -> None:
    # GIVEN a command whose AWS call fails (a missing bucket) WHEN it runs THEN one line quotes AWS's error, exit 1
    result = runner.invoke(probe, ["aws"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == ("error: AWS: An error occurred (NoSuchBucket) when calling the PutObject operation: "
                             "The specified bucket does not exist\n")


def test_with_json_an_error_is_one_json_object_on_stdout() -> None:
    # GIVEN --json WHEN a command is refused THEN stdout holds exactly one JSON object with the error and details
    result = runner.invoke(probe, ["refuse", "--json"])
    assert result.exit_code == 1 and result.stderr == ""
    assert json.loads(result.stdout) == {"error": "not dropped: unknown model 'x'", "dropped": None}
    assert result.stdout.count("\n") == 1


@pytest.mark.parametrize(("args", "code", "says"), [
    (["misuse"], 2, "no endpoint URL"),
    (["refuse"], 1, "not dropped: unknown model 'x'"),
    (["finish"], 2, "Missing argument 'code' (see `root finish --help`)"),
    (["finish", "x"], 2, "Invalid value for 'code'"),
    (["finish", "1", "--nope"], 2, "No such option: --nope"),
    (["nosuch"], 2, "No such command 'nosuch'"),
])
def test_usage_and_refusals_have_their_exit_codes(args: list[str], code: int, says: str) -> None:
    # GIVEN a command line that is wrong, or a command that refuses WHEN it runs
    result = runner.invoke(probe, args, prog_name="root")
    # THEN one error line says what, with exit 2 for usage and 1 for a refusal
    assert result.exit_code == code and result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1 and says in result.stderr
    # AND with --json the same error is a JSON object on stdout
    as_json = runner.invoke(probe, [*args, "--json"], prog_name="root")
    assert as_json.exit_code == code and says in json.loads(as_json.stdout)["error"]


def test_a_command_chooses_its_own_exit_status() -> None:
    # GIVEN a command that prints its result and exits 1 (an HTTP 400, a rejected file) THEN nothing is added
    result = runner.invoke(probe, ["finish", "1", "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout) == {"done": True} and result.stderr == ""


def test_sluice_debug_lets_the_traceback_through(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN SLUICE_DEBUG=1 WHEN a command fails unexpectedly THEN the exception itself escapes (for a traceback)
    monkeypatch.setenv(ENV_DEBUG, "1")
    result = runner.invoke(probe, ["explode"])
    assert isinstance(result.exception, RuntimeError) and result.stdout == ""


def test_json_is_asked_only_before_the_end_of_options() -> None:
    assert wants_json(["drop", "f", "--json"]) and not wants_json(["drop", "--", "--json"])
    assert one_line("a\n  b\tc\n") == "a b c"
