"""The `sluice` command line, as a user runs it: a long-running `sluice local` and commands beside it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sluice.cli import app
from sluice.demo import samples
from sluice.local.metering import METER_ENV
from tests.conftest import CONFIG, HANG_GUARD_S, trials_only

pytestmark = pytest.mark.slow
SLUICE = [sys.executable, "-m", "sluice.cli"]
COMMANDS = ("demo", "local", "drop", "models", "predict", "rollback", "approve", "reject", "invoke")
CONSOLE_LOG = "local.log"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SLUICE, *args], cwd=workdir, capture_output=True, text=True, timeout=HANG_GUARD_S,
                          check=check,
                          env={**os.environ, "OMP_NUM_THREADS": "1", METER_ENV: "scripted"})


def _json(workdir: Path, *args: str) -> Any:
    return json.loads(_run(workdir, *args, "--json").stdout)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_every_one_but_local_answers_in_json(command: str) -> None:
    # GIVEN a command / WHEN asked for help / THEN it answers, and offers --json unless it is `sluice local`
    # (a long-running server: its machine-readable output is the timeline journal other commands follow)
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert ("--json" in result.output) is (command != "local")


@pytest.fixture
def local_stack(tmp_path: Path, repo_root: Path) -> Iterator[Path]:
    """`sluice local` running in tmp_path (its state file lives there), stopped at the end."""
    yield from _local_stack(tmp_path, repo_root, {})


@pytest.fixture
def approval_stack(tmp_path: Path, repo_root: Path) -> Iterator[Path]:
    """`sluice local` whose breast-cancer versions wait for a manual approval."""
    yield from _local_stack(tmp_path, repo_root, {"breast-cancer": {"approval": "manual"}})


def _local_stack(tmp_path: Path, repo_root: Path, deployments: dict[str, dict[str, Any]]) -> Iterator[Path]:
    from tests.integration.releases import config_with

    config_with(tmp_path, deployments)  # releases all at once: `sluice local` fires bake checks every real minute
    console = (tmp_path / CONSOLE_LOG).open("w")  # a file, not a pipe nobody reads (it would fill and block)
    process = subprocess.Popen(
        [*SLUICE, "local", "--port", str(_free_port()), "--aws-port", str(_free_port())], cwd=tmp_path,
        stdout=console, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
             "SLUICE_FUNCTIONS_DIR": str(repo_root / "functions"),
             "XDG_STATE_HOME": str(tmp_path / "state")})  # not the user's latest-stack pointer
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / ".sluice" / "local.json").exists():
            assert process.poll() is None and time.monotonic() < deadline, "sluice local did not start"
            time.sleep(0.2)
        yield tmp_path
    finally:
        process.terminate()
        process.wait(timeout=60)
        console.close()


def test_a_user_drives_the_local_stack_from_another_terminal(local_stack: Path, repo_root: Path) -> None:
    # GIVEN `sluice local` running and a dataset delivered in two parts
    first, second = local_stack / "cases-1.csv", local_stack / "cases-2.csv"
    for path, body in zip((first, second), samples.deliveries(samples.BREAST_CANCER, 300), strict=True):
        path.write_bytes(body)
    # WHEN a user drops the first part (without waiting)
    dropped = _json(local_stack, "drop", str(first), "--model", "breast-cancer")
    assert dropped["dropped"].endswith("incoming/breast-cancer/cases-1.csv")
    # THEN the pipeline deploys v1 (the local process dispatches the events)
    _wait_until_live(local_stack, 1)
    # AND predict answers over HTTP
    features, _ = samples.instances(samples.BREAST_CANCER, "diagnosis", 2)
    answer = _json(local_stack, "predict", "breast-cancer", "--instances", json.dumps(features))
    assert answer["status"] == 200 and answer["model_version"] == "1"
    # AND explains them: the same predictions, each with contributions adding up to its value
    explained = _json(local_stack, "predict", "breast-cancer", "--explain", "--instances", json.dumps(features))
    assert explained["status"] == 200 and explained["predictions"] == answer["predictions"]
    for item in explained["explanations"]:
        assert abs(item["base"] + sum(item["contributions"].values()) - item["value"]) < 1e-9
    # AND a bad request is refused with a message and a non-zero exit
    refused = _run(local_stack, "predict", "breast-cancer", "--instances", '[{"nope": 1}]', "--json", check=False)
    assert refused.returncode == 1 and json.loads(refused.stdout)["status"] == 400
    # AND invoking a handler on a sample event works against the running stack
    # (a scheduled retrain with no new data: a recorded no-op against v1)
    invoked = _json(local_stack, "invoke", "train_model", "--event", str(repo_root / "events/scheduled_retrain.json"))
    assert invoked["result"]["outcome"] == "unchanged" and invoked["result"]["same_as_version"] == 1
    # WHEN the second part arrives and the user waits for it
    followed = _json(local_stack, "drop", str(second), "--model", "breast-cancer", "--wait")
    # THEN it comes back when v2 (trained on both parts) is live; a manual rollback returns to v1
    assert followed["outcome"]["status"] == "live" and followed["outcome"]["version"] == 2
    rolled = _json(local_stack, "rollback", "breast-cancer", "--reason", "manual check")
    assert (rolled["outcome"], rolled["from_version"], rolled["to_version"]) == ("rolled_back", 2, 1)
    history = _json(local_stack, "models", "breast-cancer", "--history")["breast-cancer"]["history"]
    assert any(entry["change"] == "approved → live" for entry in history)


def test_drop_wait_follows_a_file_to_live_or_to_its_rejection(local_stack: Path) -> None:
    # GIVEN `sluice local` running WHEN a user drops a good file and waits
    followed = _run(local_stack, "drop", str(samples.BREAST_CANCER), "--model", "breast-cancer", "--wait")
    # THEN the command returns when v1 is live, having shown each stage and the training trials, and exits 0
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert "validation  accepted: 569 rows" in followed.stdout and "trial 1/" in followed.stdout
    assert "live: breast-cancer v1 is live" in followed.stdout and "roc_auc=" in followed.stdout
    # WHEN a broken file is dropped and followed (as JSON)
    broken = local_stack / "broken.csv"
    broken.write_bytes(samples.broken_copy(samples.BREAST_CANCER))
    rejected = _run(local_stack, "drop", str(broken), "--model", "breast-cancer", "--wait", "--json", check=False)
    # THEN it exits 1 with the rules, columns and counts that failed and where the report is
    outcome = json.loads(rejected.stdout)["outcome"]
    assert rejected.returncode == 1 and outcome["status"] == "rejected"
    assert {("target_value", "diagnosis", 1), ("out_of_range", "mean_area", 1)} <= {
        (issue["rule"], issue["column"], issue["count"]) for issue in outcome["issues"]}
    assert outcome["report_key"].startswith("rejected/breast-cancer/broken-") and "report at s3://" in outcome[
        "message"]
    # AND the same content dropped again ends at once: nothing new to train, exit 0
    again = _run(local_stack, "drop", str(samples.BREAST_CANCER), "--model", "breast-cancer", "--wait", "--json")
    assert json.loads(again.stdout)["outcome"]["status"] == "unchanged"
    # AND `sluice local`'s own console showed the trials and the rejection's reasons
    log = (local_stack / CONSOLE_LOG).read_text()
    assert "◦ trial" in log and "target_value column='diagnosis' count=1" in log


def test_a_reviewer_approves_a_waiting_version_from_another_terminal(approval_stack: Path) -> None:
    # GIVEN `sluice local` with breast-cancer on approval = manual, and a drop that trains v1
    _json(approval_stack, "drop", str(samples.BREAST_CANCER), "--model", "breast-cancer")
    # WHEN v1 has passed the gate THEN it waits for approval and nothing is live
    deadline = time.monotonic() + 180
    while (listing := _json(approval_stack, "models", "breast-cancer")["breast-cancer"])["versions"] == [] or \
            listing["versions"][-1]["status"] != "pending_approval":
        assert time.monotonic() < deadline, listing
        time.sleep(0.5)
    assert listing["live"] is None
    # WHEN a reviewer approves it with a reason
    approved = _json(approval_stack, "approve", "breast-cancer", "1", "--reason", "card reviewed")
    # THEN it is released at once, and the audit trail names the caller (STS GetCallerIdentity) and the reason
    caller = approved["approved_by"]
    assert approved["outcome"] == "deployed" and caller.startswith("arn:aws:")
    history = _json(approval_stack, "models", "history", "breast-cancer")["history"]
    decided = next(entry for entry in history if entry["change"] == "pending_approval → approved")
    assert (decided["actor"], decided["reason"]) == (caller, "card reviewed")
    assert _json(approval_stack, "models", "breast-cancer")["breast-cancer"]["live"] == 1
    # WHEN someone decides on it again THEN one line refuses it, exit 1
    again = _run(approval_stack, "reject", "breast-cancer", "1", "--reason", "too late", check=False)
    assert again.returncode == 1 and again.stdout == "" and again.stderr.count("\n") == 1, again.stderr
    assert "error: breast-cancer v1 is live, not pending approval (approved by arn:aws:" in again.stderr


def _wait_until_live(workdir: Path, version: int) -> None:
    deadline = time.monotonic() + 180
    while True:
        listing = _json(workdir, "models", "breast-cancer")
        if listing["breast-cancer"]["live"] == version:
            return
        assert time.monotonic() < deadline, listing
        time.sleep(0.5)


def test_bad_input_to_a_command_is_one_line_not_a_traceback(local_stack: Path) -> None:
    # GIVEN `sluice local` running WHEN commands get a missing or unreadable file, a model name that is not
    # configured (a space in it included) THEN each answers one line naming what to fix, exit 2 (usage)
    for args, says in ((("predict", "breast-cancer", "-i", "@missing.json"), "cannot read --instances file"),
                       (("predict", "breast-cancer", "-i", f"@{local_stack}"), "Is a directory"),
                       (("predict", "breast cancer", "-i", "[{}]"), "unknown model 'breast cancer'"),
                       (("rollback", "nosuch"), "unknown model 'nosuch' (configured: breast-cancer, diabetes)")):
        result = _run(local_stack, *args, check=False)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stdout == "" and result.stderr.startswith("error: ") and says in result.stderr, args
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, args


def test_commands_without_a_stack_say_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")} | {"XDG_STATE_HOME": str(tmp_path)}
    result = subprocess.run([*SLUICE, "models"], cwd=tmp_path, capture_output=True, text=True, env=env,
                            timeout=HANG_GUARD_S)
    assert result.returncode == 2 and "sluice local" in result.stderr and result.stderr.count("\n") == 1


def test_the_demo_passes_and_reports_json(repo_root: Path, tmp_path: Path) -> None:
    # GIVEN sluice.toml with searches bounded by trial count (and, from _run, scripted Lambda durations), so that
    # neither the retrain's gate nor the bake check depends on the machine's speed
    config = tmp_path / "sluice.toml"
    config.write_text(trials_only(CONFIG.read_text()))
    document = _json(repo_root, "demo", "--config", str(config))
    # v1 after the rollback, then v3: the retrain that drift detection triggered (sluice.demo.monitoring_story)
    assert document["passed"] is True and document["live"] == {"breast-cancer": 3, "diabetes": 1}
