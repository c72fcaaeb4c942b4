"""`sluice contract infer` drafts a loadable contract; `sluice validate` gives the Lambda's verdict on a local file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
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


def _validate(*args: str) -> Result:
    return runner.invoke(app, ["validate", *args])


def test_validate_exit_codes_tell_accepted_rejected_and_could_not_run(tmp_path: Path) -> None:
    config = str(HOSTILE / "sluice.toml")
    # GIVEN good data, data breaking the contract, and a file that cannot be parsed (a quote never closed)
    # WHEN each is validated / THEN 0, 1 and 1: an unparseable file is a rejection with its report
    assert _validate(str(HOSTILE / "good.csv"), "-m", "hostile", "-c", config).exit_code == 0
    assert _validate(str(HOSTILE / "duplicate_ids.csv"), "-m", "hostile", "-c", config).exit_code == 1
    unbalanced = _validate(str(HOSTILE / "unterminated_quote.csv"), "-m", "hostile", "-c", config)
    assert unbalanced.exit_code == 1 and "unbalanced quotes" in unbalanced.output
    assert "Traceback" not in unbalanced.output


def test_validate_could_not_run_is_exit_2_and_one_line(tmp_path: Path) -> None:
    config = str(HOSTILE / "sluice.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[models.x\n")
    cases = {
        "No such file": ["missing.csv", "-m", "hostile", "-c", config],
        "Is a directory": [str(HOSTILE), "-m", "hostile", "-c", config],
        "unknown model": [str(HOSTILE / "good.csv"), "-m", "nope", "-c", config],
        "cannot read configuration": [str(HOSTILE / "good.csv"), "-m", "hostile", "-c", str(tmp_path / "no.toml")],
        "invalid TOML": [str(HOSTILE / "good.csv"), "-m", "hostile", "-c", str(broken)],
    }
    for reason, args in cases.items():
        # GIVEN a run that cannot happen / WHEN validate is called / THEN exit 2, one line naming why, no traceback
        result = _validate(*args)
        assert result.exit_code == 2, (reason, result.output)
        assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
        assert reason in result.output and "Traceback" not in result.output


def test_validate_is_exit_2_when_validation_itself_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a validation that fails with an error that is not about the data (a bug)
    import sluice.data

    def crash(*_: object, **__: object) -> None:
        raise RuntimeError("normalized 3 of 4 accepted rows")

    monkeypatch.setattr(sluice.data, "check_file", crash)
    # WHEN validate runs / THEN exit 2 with the error on one line, not a traceback
    result = _validate(str(HOSTILE / "good.csv"), "-m", "hostile", "-c", str(HOSTILE / "sluice.toml"))
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "RuntimeError: normalized 3 of 4 accepted rows" in result.output
