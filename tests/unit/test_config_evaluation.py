"""Configuration of tuning budgets, slice gates, live margins and bootstrap intervals."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluice.config import BootstrapSettings, ConfigError, SliceGate, TuningSettings, load_config, load_config_text

ROOT = Path(__file__).resolve().parents[2]
BASE = """
[models.shop]
task = "classification"
[models.shop.training]
families = ["logistic_regression"]
{training}
[models.shop.gates]
primary_metric = "roc_auc"
{gates}
[models.shop.contract]
target = "bought"
[[models.shop.contract.columns]]
name = "basket"
[[models.shop.contract.columns]]
name = "channel"
type = "string"
"""


def config(training: str = "", gates: str = ""):
    return load_config_text(BASE.format(training=training, gates=gates)).model("shop")


def test_a_config_without_the_new_tables_keeps_its_old_meaning():
    # GIVEN a model table written before tuning/slices/bootstrap existed WHEN loaded THEN defaults apply
    model = config()
    assert model.training.tuning == TuningSettings() and not model.training.tuning.enabled
    assert model.gates.slices == () and model.gates.margins == {}
    assert model.gates.bootstrap == BootstrapSettings(samples=200, confidence=0.95)
    assert model.gates.live_margins == {"roc_auc": 0.0}


def test_tuning_slices_margins_and_bootstrap_are_read():
    # GIVEN every new setting
    model = config(
        training='time_column = "basket"\n[models.shop.training.tuning]\ntrials = 12\ntimeout_s = 30\npruning = false',
        gates='max_regression = 0.02\nmargins = { log_loss = 0.1 }\n'
              '[models.shop.gates.bootstrap]\nsamples = 50\nconfidence = 0.9\n'
              '[[models.shop.gates.slices]]\ncolumn = "channel"\ntolerance = 0.03\nmetric = "pr_auc"\nmin_rows = 5',
    )
    # THEN they are typed and complete
    assert model.training.tuning == TuningSettings(trials=12, timeout_s=30.0, pruning=False)
    assert model.training.time_column == "basket"
    assert model.gates.slices == (SliceGate(column="channel", tolerance=0.03, metric="pr_auc", min_rows=5),)
    assert model.gates.live_margins == {"roc_auc": 0.02, "log_loss": 0.1}
    assert model.gates.bootstrap == BootstrapSettings(samples=50, confidence=0.9)


@pytest.mark.parametrize(
    ("training", "gates", "message"),
    [
        ("", '[[models.shop.gates.slices]]\ncolumn = "nope"', "slice column 'nope' is not a contract column"),
        ("", '[[models.shop.gates.slices]]\ncolumn = "channel"\nbins = 1', "bins: must be at least 2"),
        ("", "margins = { rmse = 1.0 }", "metric 'rmse' is not one of"),
        ("", "margins = { log_loss = -1.0 }", "must not be negative"),
        ("", "[models.shop.gates.bootstrap]\nconfidence = 1.5", "confidence: must be at most"),
        ("[models.shop.training.tuning]\ntrials = -1", "", "trials: must be at least 0"),
        ('time_column = "channel"', "", "time_column 'channel' must be a numeric contract column"),
    ],
)
def test_invalid_settings_are_refused_with_a_reason(training, gates, message):
    with pytest.raises(ConfigError, match=message):
        config(training, gates)


def test_the_shipped_config_declares_budgets_slices_and_bootstrap():
    project = load_config(ROOT / "sluice.toml")
    for name in project.names:
        model = project.model(name)
        assert model.training.tuning.enabled and model.gates.slices and model.gates.bootstrap.samples > 0
