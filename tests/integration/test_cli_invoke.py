"""`sluice invoke` against a running `sluice local`, from another directory: predict answers Function URL and API
Gateway events, deployed names work, a replayed response says so, `--fresh` runs again, `--logs` shows the
handler's lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sluice.demo import samples
from tests.conftest import EVENTS, HANG_GUARD_S

pytestmark = pytest.mark.slow
SLUICE = [sys.executable, "-m", "sluice.cli"]


@pytest.fixture
def running(tmp_path: Path, repo_root: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """`sluice local` started in tmp_path/stack; commands run from tmp_path/elsewhere with their own state home."""
    from tests.integration.releases import config_with
    from tests.integration.test_cli import _free_port

    stack, elsewhere = tmp_path / "stack", tmp_path / "elsewhere"
    stack.mkdir()
    elsewhere.mkdir()
    config_with(stack, {})
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SLUICE_FUNCTIONS_DIR": str(repo_root / "functions"),
           "XDG_STATE_HOME": str(tmp_path / "state")}
    process = subprocess.Popen([*SLUICE, "local", "--port", str(_free_port()), "--aws-port", str(_free_port())],
                               cwd=stack, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (stack / ".sluice" / "local.json").exists():
            assert process.poll() is None and time.monotonic() < deadline, "sluice local did not start"
            time.sleep(0.2)
        yield elsewhere, env
    finally:
        process.terminate()
        process.wait(timeout=60)


def _sluice(where: Path, env: dict[str, str], *args: str) -> Any:
    done = subprocess.run([*SLUICE, *args, "--json"], cwd=where, capture_output=True, text=True, timeout=HANG_GUARD_S,
                          env=env, check=True)
    return json.loads(done.stdout)


def test_invoke_from_another_directory(running: tuple[Path, dict[str, str]]) -> None:
    elsewhere, env = running
    # GIVEN breast-cancer live on the running stack (dropped from another directory)
    _sluice(elsewhere, env, "drop", str(samples.BREAST_CANCER), "--model", "breast-cancer")
    deadline = time.monotonic() + 240
    while _sluice(elsewhere, env, "models", "breast-cancer")["breast-cancer"]["live"] != 1:
        assert time.monotonic() < deadline, "v1 never went live"
        time.sleep(1)
    # WHEN predict is invoked with each HTTP event shape THEN the endpoint answers
    for sample in ("predict_function_url.json", "predict_api_gateway_rest.json", "predict_http_api.json"):
        answer = _sluice(elsewhere, env, "invoke", "predict", "--event", str(EVENTS / sample))["result"]
        assert answer["status"] == 200 and answer["body"]["predictions"] == ["malignant"], (sample, answer)
    # AND the deployed name of the function works, naming the stack explicitly
    stack = str(elsewhere.parent / "stack")
    by_name = _sluice(elsewhere, env, "invoke", "sluice-predict-breast-cancer", "--stack", stack,
                      "--event", str(EVENTS / "predict_function_url.json"))
    assert by_name["result"]["body"]["model_version"] == "1"
    # WHEN a trigger event is invoked twice THEN the second answer is the stored one, and says so
    sample = str(EVENTS / "s3_object_created.json")
    first = _sluice(elsewhere, env, "invoke", "sluice-validate-dataset", "--event", sample)
    again = _sluice(elsewhere, env, "invoke", "validate_dataset", "--event", sample, "--logs")
    assert first["result"]["outcome"] == "already_accepted" and first["replayed"] is False
    assert again["result"] == first["result"] and again["replayed"] is True
    assert any("replayed the stored response" in line for line in again["logs"])
    # AND --fresh runs the handler again, its log lines shown
    fresh = _sluice(elsewhere, env, "invoke", "validate_dataset", "--event", sample, "--fresh", "--logs")
    assert fresh["replayed"] is False and "INFO validate finished" in fresh["logs"]
