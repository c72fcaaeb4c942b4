"""Holdout reports: metrics by task, bootstrap intervals, slices, plot data and permutation importance."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss

from sluice.config import BootstrapSettings, SliceGate, TuningSettings, load_config
from sluice.evaluation import confidence_intervals, predict_holdout, report_holdout, slice_masks
from sluice.serving import OnnxModel
from sluice.training import export_onnx, split_holdout, train_best

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "layers" / "sluice" / "python" / "sluice" / "demo" / "data"


def served(name: str, csv: str, family: str):
    config = load_config(ROOT / "sluice.toml").model(name)
    config = dataclasses.replace(config, training=dataclasses.replace(
        config.training, families=(family,), tuning=TuningSettings()))
    train, holdout = split_holdout(pd.read_csv(DATA / csv), config)
    result = train_best(train, config)
    exported = export_onnx(result, config, holdout)
    return config, OnnxModel.from_bytes(exported.onnx_bytes, exported.signature), result, holdout


@pytest.fixture(scope="module")
def cancer():
    return served("breast-cancer", "breast_cancer.csv", "logistic_regression")


@pytest.fixture(scope="module")
def diabetes():
    return served("diabetes", "diabetes.csv", "ridge")


def test_classification_metrics_include_pr_auc_and_calibration(cancer):
    # GIVEN the served breast-cancer model WHEN its full report is made
    config, model, result, holdout = cancer
    report = report_holdout(model, holdout, config, full=True)
    # THEN pr_auc and brier agree with scikit-learn on the positive class ("malignant"), and ece is a fraction
    positive = (holdout["diagnosis"] == "malignant").to_numpy()
    from sluice.training import feature_frame

    probability = result.pipeline.predict_proba(feature_frame(holdout, config))[:, 1]
    assert report.metrics["pr_auc"] == pytest.approx(average_precision_score(positive, probability), abs=1e-4)
    assert report.metrics["brier"] == pytest.approx(brier_score_loss(positive, probability), abs=1e-5)
    assert 0 <= report.metrics["ece"] < 0.2
    # AND every metric has a 95 % bootstrap interval around its point estimate
    assert set(report.intervals) == set(report.metrics)
    for name, value in report.metrics.items():
        assert report.intervals[name]["low"] <= value + 1e-9 and value - 1e-9 <= report.intervals[name]["high"]
    # AND the plot data and the importances are there
    plots = report.plots
    assert plots["kind"] == "classification" and plots["roc"][0] == [0.0, 0.0] and plots["roc"][-1] == [1.0, 1.0]
    assert np.sum(plots["confusion"]["matrix"]) == len(holdout)
    assert sum(b["rows"] for b in plots["calibration"]) == len(holdout)
    assert set(report.importance) == set(config.contract.feature_names)


def test_bootstrap_intervals_are_seeded_and_narrow_with_more_rows(diabetes):
    # GIVEN the diabetes predictions
    config, model, _, holdout = diabetes
    predictions = predict_holdout(model, holdout, config)
    settings = BootstrapSettings(samples=100, confidence=0.9)
    # WHEN intervals are drawn twice with one seed, and once on a quarter of the rows
    first, second = confidence_intervals(predictions, settings, 7), confidence_intervals(predictions, settings, 7)
    small = confidence_intervals(predictions.subset(np.arange(len(predictions) // 4)), settings, 7)
    # THEN they repeat exactly, and fewer rows give a wider interval
    assert first == second and first["rmse"]["samples"] == 100
    assert small["rmse"]["high"] - small["rmse"]["low"] > first["rmse"]["high"] - first["rmse"]["low"]
    assert confidence_intervals(predictions, BootstrapSettings(samples=0), 7) == {}


def test_categorical_slices_follow_values_and_numeric_slices_follow_quantiles(diabetes):
    config, _, _, holdout = diabetes
    by_sex = slice_masks(holdout, SliceGate("sex"), config)
    assert [name for name, _ in by_sex] == ["sex=female", "sex=male"]
    assert sum(mask.sum() for _, mask in by_sex) == len(holdout)
    by_bmi = slice_masks(holdout, SliceGate("bmi", bins=3), config)
    assert len(by_bmi) == 3 and sum(mask.sum() for _, mask in by_bmi) == len(holdout)
    assert all(abs(mask.sum() - len(holdout) / 3) <= 0.1 * len(holdout) for _, mask in by_bmi)  # ties move edges


def test_slice_metrics_and_regression_plots_come_with_the_report(diabetes):
    config, model, _, holdout = diabetes
    report = report_holdout(model, holdout, config, full=True)
    assert [entry["slice"] for entry in report.slices] == ["sex=female", "sex=male"]
    assert all(entry["metrics"]["rmse"] > 0 for entry in report.slices)
    assert report.plots["kind"] == "regression" and len(report.plots["points"]) == len(holdout)
    # AND importance ranks features by how much shuffling them hurts (bmi and s5 drive progression)
    assert set(list(report.importance)[:3]) & {"bmi", "s5"}
    # AND a light report (for the live model) skips intervals, plots and importance
    light = report_holdout(model, holdout, config, full=False)
    assert light.metrics == report.metrics and light.intervals == {} and light.plots is None
