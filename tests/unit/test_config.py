"""The project configuration: the shipped file loads; mistakes get a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluice.config import ConfigError, load_config, load_config_text

MINIMAL = """
[models.churn]
task = "classification"
[models.churn.training]
families = ["logistic_regression"]
[models.churn.contract]
target = "churned"
[[models.churn.contract.columns]]
name = "tenure"
"""


def test_shipped_config_declares_two_models(config_path: Path) -> None:
    config = load_config(config_path)
    assert config.names == ("breast-cancer", "diabetes")
    cancer = config.model("breast-cancer")
    assert cancer.task == "classification" and len(cancer.contract.columns) == 30
    assert cancer.contract.target_values == ("malignant", "benign")
    assert config.model("diabetes").contract.column("sex").allowed == ("female", "male")


def test_defaults_fill_what_is_not_said() -> None:
    model = load_config_text(MINIMAL).model("churn")
    assert (model.training.cv_folds, model.gates.primary_metric, model.contract.column("tenure").type) == (
        5, "roc_auc", "float")


@pytest.mark.parametrize(("change", "message"), [
    (('task = "classification"', 'task = "clustering"'), r"\[models.churn\] task: must be one of"),
    (('families = ["logistic_regression"]', 'families = ["ridge"]'), "families must be"),
    (('models.churn', 'models.Churn_Model'), "name must match"),
    (('name = "tenure"', 'name = "churned"'), "also listed as a feature"),
    (('target = "churned"', ''), r"\[models.churn.contract\] target: is required"),
    (('families = ["logistic_regression"]', 'families = ["logistic_regression"]\ntuning = { timeout_s = 1200 }'),
     "timeout_s 1200 is above 600 s"),
    (('name = "tenure"', 'name = "Tenure Months"\n[[models.churn.contract.columns]]\nname = "tenure_months"'),
     "would share the field 'tenure_months' in captured traffic"),
])
def test_mistakes_are_reported_with_the_model_and_the_rule(change: tuple[str, str], message: str) -> None:
    text = MINIMAL.replace(*change)
    with pytest.raises(ConfigError, match=message):
        load_config_text(text)


def test_unknown_model_lists_the_configured_ones() -> None:
    with pytest.raises(ConfigError, match="configured: churn"):
        load_config_text(MINIMAL).model("nope")


def test_invalid_toml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config_text("[models")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")


def test_every_search_fits_in_the_training_function_with_room_for_the_refit() -> None:
    # the search is capped (trials-only budgets too), and the cap leaves train_model 5 minutes for the rest
    from sluice.config.model import MAX_SEARCH_S, TuningSettings
    from sluice.wiring import FUNCTIONS

    assert TuningSettings(trials=10_000).search_timeout_s == MAX_SEARCH_S
    assert TuningSettings(timeout_s=20).search_timeout_s == 20
    assert FUNCTIONS["train_model"].timeout_s >= MAX_SEARCH_S + 300
