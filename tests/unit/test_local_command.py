"""`sluice local` refuses what it cannot start with one line, never a traceback or a hang."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sluice.cli.app import app

runner = CliRunner()


def test_without_a_configuration_it_says_where_to_run_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a folder without sluice.toml WHEN `sluice local` starts THEN one line says what to do, exit 2
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["local"])
    assert result.exit_code == 2
    assert "cannot read configuration" in result.output and "--config" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 2


def test_a_taken_port_is_a_one_line_error_not_a_hang(config_path: Path) -> None:
    # GIVEN another program listening on the embedded AWS port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # WHEN `sluice local` starts on it THEN it refuses at once, naming the option to change
        result = runner.invoke(app, ["local", "--config", str(config_path), "--aws-port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} (--aws-port) is in use" in result.output and "Traceback" not in result.output
