"""Every `sluice` command, given bad input, answers one line (or one JSON object with --json) and the right exit:
2 usage (the command cannot run as typed or configured), 1 refused. The commands are read from the typer app, so a
new command is covered at once, and has to be given its own bad inputs in BAD_INPUT."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import typer
from moto import mock_aws
from typer.core import TyperGroup
from typer.testing import CliRunner

from sluice.cli import drop_command
from sluice.cli.app import app
from sluice.demo import samples
from tests.conftest import CONFIG, EVENTS, HANG_GUARD_S

BUCKET = "sluice-data-test"
MiB = 1024 * 1024
USAGE, REFUSED = 2, 1


def leaf_commands() -> dict[tuple[str, ...], Any]:
    """Every command of the app by its path (``("models", "show")``), groups walked."""
    found: dict[tuple[str, ...], Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        if isinstance(command, TyperGroup):
            for name, child in command.commands.items():
                walk(child, (*path, name))
        else:
            found[path] = command

    walk(typer.main.get_command(app), ())
    return found


COMMANDS = leaf_commands()


def _has_json(path: tuple[str, ...]) -> bool:
    return any("--json" in param.opts for param in COMMANDS[path].params)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# (path, arguments, exit status, words the error line must have); run in the `project` folder below
BAD_INPUT: list[tuple[tuple[str, ...], list[str], int, str]] = [
    (("demo",), ["demo", "--config", "missing.toml"], USAGE, "cannot read configuration"),
    (("local",), ["local", "--config", "missing.toml"], USAGE, "cannot read configuration"),
    (("local",), ["local", "--port", "eighty"], USAGE, "Invalid value for '--port'"),
    (("drop",), ["drop", "missing.csv", "-m", "breast-cancer"], USAGE, "does not exist"),
    (("drop",), ["drop", "data.csv", "-m", "nosuch"], REFUSED, "unknown model 'nosuch'"),
    (("drop",), ["drop", "empty.csv", "-m", "breast-cancer"], REFUSED, "it is empty (0 bytes)"),
    (("drop",), ["drop", "folder", "-m", "breast-cancer"], REFUSED, "it is a directory"),
    (("drop",), ["drop", "", "-m", "breast-cancer"], REFUSED, "it is a directory"),
    (("drop",), ["drop", "data.csv", "-m", "breast-cancer", "--name", ""], REFUSED, "it is empty"),
    (("drop",), ["drop", "data.csv", "-m", "breast-cancer", "--name", "../../x"], REFUSED, "slash"),
    (("drop",), ["drop", "data.csv", "-m", "breast-cancer", "--name", ".."], REFUSED, "a path step"),
    (("drop",), ["drop", "data.csv", "-m", "breast-cancer", "--name", "/etc/passwd"], REFUSED, "slash"),
    (("drop",), ["drop", "data.csv", "-m", "breast-cancer", "--name", "a\\b.csv"], REFUSED, "backslash"),
    (("drop",), ["drop", "data.csv", "-m", "breast-cancer", "--name", "a\x1bb.csv"], REFUSED, "control character"),
    (("drop",), ["drop", "data.csv", "-m", "breast-cancer", "--name", "x" * 1100], REFUSED, "1024 bytes"),
    (("models", "list"), ["models"], USAGE, "is not a `sluice local` state file"),  # with a corrupt state file
    (("models", "show"), ["models", "show", "breast-cancer", "latest"], USAGE, "Invalid value for 'version'"),
    (("models", "history"), ["models", "history"], USAGE, "Missing argument 'name'"),
    (("drift", "report"), ["drift", "report", "breast-cancer", "--open", "now"], USAGE, "Got unexpected extra"),
    (("contract", "infer"), ["contract", "infer", "data.csv", "-o", "data.csv"], USAGE, "data.csv exists"),
    (("validate",), ["validate", "data.csv", "-m", "nosuch"], USAGE, "unknown model 'nosuch'"),
    (("predict",), ["predict", "breast-cancer", "-i", "@missing.json"], USAGE, "cannot read --instances file"),
    (("predict",), ["predict", "breast-cancer", "-i", "@folder"], USAGE, "Is a directory"),
    (("predict",), ["predict", "breast cancer", "-i", "[{}]"], USAGE, "unknown model 'breast cancer'"),
    (("predict",), ["predict", "breast-cancer", "-i", "[{"], USAGE, "--instances is not valid JSON"),
    (("predict",), ["predict", "breast-cancer", "-i", "[{}]"], REFUSED, "cannot reach the endpoint"),
    (("rollback",), ["rollback", "nosuch"], USAGE, "unknown model 'nosuch' (configured: breast-cancer, diabetes)"),
    (("approve",), ["approve", "nosuch", "1", "--reason", "ok"], USAGE, "unknown model 'nosuch'"),
    (("approve",), ["approve", "breast-cancer", "1", "--reason", " "], USAGE, "--reason must say why"),
    (("reject",), ["reject", "breast-cancer", "one", "--reason", "no"], USAGE, "Invalid value for 'version'"),
    (("reject",), ["reject", "breast-cancer", "1"], USAGE, "Missing option '--reason'"),
    (("promote",), ["promote", "nosuch", "1", "--to", "prod"], USAGE, "unknown model 'nosuch'"),
    (("promote",), ["promote", "breast-cancer", "1", "--to", "Prod!"], USAGE, "'Prod!' is not a stage name"),
    (("promote",), ["promote", "breast-cancer", "1", "--to", "prod"], USAGE,
     "function sluice-prod-predict-breast-cancer does not exist"),
    (("promote",), ["promote", "breast-cancer", "1", "--to", "sluice"], REFUSED, "same stage (sluice)"),
    (("invoke",), ["invoke", "train_model", "--event", str(EVENTS / "scheduled_retrain.json")], USAGE,
     "invoke runs handlers in-process against `sluice local`"),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project folder (sluice.toml, a data file, an empty one, a folder) whose commands talk to "AWS": moto,
    with the SLUICE_* variables of a deployed stack, its data bucket, and an endpoint that does not answer."""
    (tmp_path / "sluice.toml").write_text(CONFIG.read_text())
    (tmp_path / "data.csv").write_bytes(samples.BREAST_CANCER.read_bytes())
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "folder").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in [name for name in os.environ if name.startswith(("SLUICE_", "AWS_"))]:
        monkeypatch.delenv(name)
    for variable in ("ARTIFACT_BUCKET", "REGISTRY_TABLE", "IDEMPOTENCY_TABLE", "EVENT_BUS"):
        monkeypatch.setenv(f"SLUICE_{variable}", f"sluice-{variable.lower()}")
    monkeypatch.setenv("SLUICE_DATA_BUCKET", BUCKET)
    monkeypatch.setenv("SLUICE_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield tmp_path


def _objects() -> list[str]:
    return [item["Key"] for item in boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def _assert_one_error(result: Any, code: int, says: str, *, as_json: bool) -> None:
    context = (result.exit_code, result.stdout, result.stderr)
    assert result.exit_code == code, context
    assert "Traceback" not in result.stdout + result.stderr, context
    if as_json:  # one JSON object on stdout and nothing else there
        assert result.stdout.count("\n") == 1 and says in json.loads(result.stdout)["error"], context
    else:  # one line on stderr, nothing on stdout
        assert result.stdout == "" and result.stderr.startswith("error: "), context
        assert result.stderr.count("\n") == 1 and says in result.stderr, context


def test_every_command_has_bad_input_cases() -> None:
    # GIVEN the commands the app has THEN each one is exercised with bad input below (a new one must be added)
    assert set(COMMANDS) == {path for path, *_ in BAD_INPUT}


@pytest.mark.parametrize(("path", "args", "code", "says"), BAD_INPUT,
                         ids=[" ".join(args)[:60] for _, args, _, _ in BAD_INPUT])
def test_bad_input_is_one_line_with_the_right_exit(project: Path, path: tuple[str, ...], args: list[str],
                                                   code: int, says: str) -> None:
    # GIVEN a project configured for AWS (the models list also finds a corrupt `sluice local` state file)
    if path == ("models", "list"):
        (project / ".sluice").mkdir()
        (project / ".sluice" / "local.json").write_text('{"aws_endpoint": ')
    # WHEN the command runs on bad input THEN it answers one line naming the fix, with the exit for its kind
    _assert_one_error(CliRunner().invoke(app, args), code, says, as_json=False)
    # AND with --json (where the command has it), one JSON object on stdout
    if _has_json(path):
        _assert_one_error(CliRunner().invoke(app, [*args, "--json"]), code, says, as_json=True)
    # AND a refused drop uploaded nothing
    assert _objects() == []


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_command_refuses_an_unknown_option_in_one_line(project: Path, path: tuple[str, ...]) -> None:
    # GIVEN any command WHEN it gets an option it does not have THEN a usage error in one line, exit 2
    result = CliRunner().invoke(app, [*path, "--no-such-option"])
    _assert_one_error(result, USAGE, "No such option: --no-such-option", as_json=False)
    assert f"{' '.join(path)} --help`)" in result.stderr  # where to read the command's usage
    if _has_json(path):
        answered = CliRunner().invoke(app, [*path, "--no-such-option", "--json"])
        _assert_one_error(answered, USAGE, "No such option", as_json=True)


@pytest.mark.parametrize("path", sorted(p for p, c in COMMANDS.items() if any(q.required for q in c.params)),
                         ids=" ".join)
def test_every_command_names_a_missing_argument_in_one_line(project: Path, path: tuple[str, ...]) -> None:
    # GIVEN a command with required arguments WHEN it is run without them THEN one line names what is missing
    _assert_one_error(CliRunner().invoke(app, list(path)), USAGE, "Missing", as_json=False)


@pytest.mark.parametrize(("args", "code"), [(["models"], USAGE), (["rollback", "breast-cancer"], USAGE),
                                            (["predict", "breast-cancer", "-i", "[{}]"], USAGE),
                                            (["drop", "data.csv", "-m", "breast-cancer"], REFUSED)])
def test_without_sluice_toml_a_command_says_which_file_it_read(project: Path, args: list[str], code: int) -> None:
    # GIVEN a folder without sluice.toml WHEN a command needs the configuration THEN one line names the file
    (project / "sluice.toml").unlink()
    for as_json in (False, True):
        result = CliRunner().invoke(app, [*args, *(["--json"] if as_json else [])])
        _assert_one_error(result, code, "cannot read configuration sluice.toml", as_json=as_json)
    assert _objects() == []


def test_a_usage_error_from_the_installed_command_is_one_line(project: Path) -> None:
    # GIVEN the real entry point (python -m sluice.cli) WHEN drop is given a directory, with --json
    done = subprocess.run([sys.executable, "-m", "sluice.cli", "drop", "folder", "-m", "breast-cancer", "--json"],
                          capture_output=True, text=True, timeout=HANG_GUARD_S, check=False)
    # THEN exit 1 and one JSON object, no traceback
    assert done.returncode == REFUSED and "Traceback" not in done.stderr
    assert "it is a directory" in json.loads(done.stdout)["error"]


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_deciding_a_version_that_does_not_wait_for_approval_is_one_line(project: Path, verb: str) -> None:
    # GIVEN the deployment's registry with breast-cancer v1 approved by the gate, not waiting for a human
    from sluice.registry import DynamoDBRegistry, Status

    client = boto3.client("dynamodb")
    table = os.environ["SLUICE_REGISTRY_TABLE"]
    client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in ("pk", "sk")],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}])
    registry = DynamoDBRegistry(client, table)
    registry.claim_version("breast-cancer", data_version="d", code_version="c", lineage={}, actor="t",
                           correlation_id="c")
    for status in (Status.CANDIDATE, Status.APPROVED):
        registry.transition("breast-cancer", 1, to=status, reason="r", actor="t", correlation_id="c")
    for as_json in (False, True):
        # WHEN a reviewer decides on it, or on a version that does not exist
        flags = ["--json"] if as_json else []
        not_waiting = CliRunner().invoke(app, [verb, "breast-cancer", "1", "--reason", "looks fine", *flags])
        missing = CliRunner().invoke(app, [verb, "breast-cancer", "7", "--reason", "looks fine", *flags])
        # THEN each is refused in one line, exit 1, and nothing changed
        _assert_one_error(not_waiting, REFUSED, "breast-cancer v1 is approved, not pending approval",
                          as_json=as_json)
        _assert_one_error(missing, REFUSED, "breast-cancer v7 does not exist", as_json=as_json)
    assert registry.get_version("breast-cancer", 1).status is Status.APPROVED


def test_drop_streams_a_large_file_in_parts_and_it_arrives_whole(project: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a multipart threshold and part size of 5 MiB (S3's smallest part) and an 11 MiB file
    monkeypatch.setattr(drop_command, "MULTIPART_THRESHOLD", 5 * MiB)
    monkeypatch.setattr(drop_command, "PART_SIZE", 5 * MiB)
    body = os.urandom(11 * MiB)
    (project / "large.csv").write_bytes(body)

    def whole_read(self: Path) -> bytes:
        raise AssertionError(f"{self} read whole into memory")

    monkeypatch.setattr(Path, "read_bytes", whole_read)
    # WHEN it is dropped
    result = CliRunner().invoke(app, ["drop", "large.csv", "-m", "breast-cancer", "--json"])
    # THEN it lands under incoming/<model>/ byte for byte, uploaded in three parts (a multipart ETag: "<md5>-3")
    assert result.exit_code == 0, result.output
    key = "incoming/breast-cancer/large.csv"
    assert json.loads(result.stdout) == {"dropped": f"s3://{BUCKET}/{key}", "bytes": len(body)}
    stored = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)
    assert stored["ETag"].strip('"').endswith("-3") and stored["Body"].read() == body


def test_a_drop_to_a_missing_bucket_is_one_line_and_leaves_nothing(project: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a deployment whose data bucket does not exist, and a file above the multipart threshold
    monkeypatch.setenv("SLUICE_DATA_BUCKET", "no-such-bucket")
    monkeypatch.setattr(drop_command, "MULTIPART_THRESHOLD", 5 * MiB)
    (project / "large.csv").write_bytes(os.urandom(6 * MiB))
    for name in ("data.csv", "large.csv"):
        # WHEN it is dropped THEN one line says the upload failed and why, exit 1
        result = CliRunner().invoke(app, ["drop", name, "-m", "breast-cancer", "--json"])
        _assert_one_error(result, REFUSED, "failed: ", as_json=True)
        assert "NoSuchBucket" in json.loads(result.stdout)["error"]
    # AND nothing landed in the bucket the other commands use
    assert _objects() == []


def test_drop_names_the_object_as_asked(project: Path) -> None:
    # GIVEN a safe --name WHEN a small file is dropped THEN it is stored under that name in one put
    result = CliRunner().invoke(app, ["drop", "data.csv", "-m", "breast-cancer", "--name", "March 2026.csv"])
    assert result.exit_code == 0, result.output
    assert _objects() == ["incoming/breast-cancer/March 2026.csv"]
    stored = boto3.client("s3").head_object(Bucket=BUCKET, Key="incoming/breast-cancer/March 2026.csv")
    assert "-" not in stored["ETag"] and stored["ContentLength"] == (project / "data.csv").stat().st_size
