"""`sluice contract infer` drafts a loadable contract; `sluice validate` gives the Lambda's verdict on a local file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sluice.cli.app import app
from sluice.config import load_config_text

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "layers/sluice/python/sluice/demo/data"
HOSTILE = ROOT / "tests/data/hostile"
runner = CliRunner()


def test_an_inferred_contract_loads_and_accepts_its_sample(tmp_path: Path) -> None:
    # GIVEN the diabetes sample / WHEN a contract is drafted from it
    drafted = runner.invoke(app, ["contract", "infer", str(DATA / "diabetes.csv"), "--model", "drafted"])
    assert drafted.exit_code == 0, drafted.output
    # THEN the TOML loads as a model, and the sample passes its own draft
    model = load_config_text(drafted.output).model("drafted")
    assert model.task == "regression" and model.contract.target == "progression"
    assert model.contract.column("sex").allowed == ("female", "male")
    config = tmp_path / "sluice.toml"
    config.write_text(drafted.output)
    checked = runner.invoke(app, ["validate", str(DATA / "diabetes.csv"), "--model", "drafted", "-c", str(config)])
    assert checked.exit_code == 0, checked.output


def test_validate_exits_1_with_the_report_for_bad_data() -> None:
    # GIVEN a file with a repeated id / WHEN validated with --json / THEN exit 1 and the rule in the report
    result = runner.invoke(app, ["validate", str(HOSTILE / "duplicate_ids.csv"), "--model", "hostile",
                                 "--config", str(HOSTILE / "sluice.toml"), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["accepted"] is False and report["data_version"] is None
    assert [issue["rule"] for issue in report["issues"]] == ["duplicate_value"]


def test_validate_prints_the_data_version_of_good_data() -> None:
    # GIVEN good data / WHEN validated / THEN exit 0, ACCEPTED and the content's data version
    result = runner.invoke(app, ["validate", str(HOSTILE / "good.parquet"), "--model", "hostile",
                                 "--config", str(HOSTILE / "sluice.toml")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ACCEPTED") and "data version" in result.output


def test_an_unknown_model_is_a_usage_error() -> None:
    result = runner.invoke(app, ["validate", str(DATA / "diabetes.csv"), "--model", "nope",
                                 "--config", str(ROOT / "sluice.toml")])
    assert result.exit_code == 2 and "unknown model" in result.output
