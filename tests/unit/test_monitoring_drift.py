"""Drift statistics against a stored baseline: verdicts, exactness vs scipy, serialization."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from sluice.config.monitoring import MonitoringSettings
from sluice.monitoring import Baseline, build_baseline, detect_drift
from sluice.monitoring.report import render_html, report_document

RNG = np.random.default_rng(3)
N = 20_000


def _baseline() -> Baseline:
    columns = {"x": RNG.normal(0, 1, N), "y": RNG.gamma(2.0, 1.0, N),
               "colour": RNG.choice(np.array(["red", "green", "blue"], dtype=object), N, p=[0.5, 0.3, 0.2])}
    kinds = {"x": "numeric", "y": "numeric", "colour": "categorical"}
    prediction = RNG.choice(np.array(["a", "b"], dtype=object), N)
    return build_baseline(columns, kinds, prediction, "categorical")  # type: ignore[arg-type]


def test_the_same_distribution_does_not_drift() -> None:
    # GIVEN a baseline and fresh data from the same distributions
    baseline = _baseline()
    current = {"x": RNG.normal(0, 1, 5000), "y": RNG.gamma(2.0, 1.0, 5000),
               "colour": RNG.choice(np.array(["red", "green", "blue"], dtype=object), 5000, p=[0.5, 0.3, 0.2])}
    # WHEN drift is checked with every method
    for numeric in ("psi", "wasserstein", "ks"):
        for categorical in ("chisquare", "jensenshannon", "psi"):
            settings = MonitoringSettings(numeric_method=numeric, categorical_method=categorical)
            result = detect_drift(baseline, current, settings,
                                  prediction=RNG.choice(np.array(["a", "b"], dtype=object), 5000))
            # THEN no column drifts and nothing is detected
            assert result.drifted_features == (), (numeric, categorical, result.drifted_features)
            assert not result.detected


def test_shifted_numbers_and_new_categories_drift() -> None:
    baseline = _baseline()
    # GIVEN x shifted by one std, y unchanged, and a category the reference never saw
    current = {"x": RNG.normal(1.0, 1, 5000), "y": RNG.gamma(2.0, 1.0, 5000),
               "colour": np.array(["red", "purple"] * 2500, dtype=object)}
    settings = MonitoringSettings(numeric_method="psi", categorical_method="chisquare", drift_share=0.5)
    # WHEN drift is checked
    result = detect_drift(baseline, current, settings)
    # THEN x and colour drift, y does not, and 2 of 3 columns is past the share
    assert result.drifted_features == ("x", "colour")
    assert result.detected
    colour = next(f for f in result.features if f.name == "colour")
    assert colour.statistics["chisquare"] == 0.0 and "purple" in colour.labels


def test_statistics_from_the_quantile_baseline_match_scipy_on_the_raw_data() -> None:
    # GIVEN raw reference and current samples
    reference, current = RNG.normal(0, 1, N), RNG.normal(0.05, 1.1, 8000)
    baseline = build_baseline({"x": reference}, {"x": "numeric"})
    # WHEN sluice computes Wasserstein and KS from the stored quantiles
    result = detect_drift(baseline, {"x": current}, MonitoringSettings())
    statistics = result.features[0].statistics
    # THEN they agree with scipy on the raw data (normed Wasserstein as Evidently defines it)
    exact_w = stats.wasserstein_distance(reference, current) / np.std(reference)
    assert statistics["wasserstein"] == pytest.approx(exact_w, abs=0.01)
    exact_p = stats.ks_2samp(reference, current).pvalue
    assert np.log10(max(statistics["ks"], 1e-300)) == pytest.approx(np.log10(max(exact_p, 1e-300)), rel=0.15)


def test_missing_values_and_low_cardinality_numbers() -> None:
    # GIVEN a numeric column with few distinct values and some missing values
    reference = RNG.choice([1.0, 2.0, 3.0, np.nan], N)
    baseline = build_baseline({"k": reference}, {"k": "numeric"})
    profile = baseline.features["k"]
    # THEN it is binned by value (one bin per distinct value) and its missing values are counted
    assert len(profile.counts) == 3 and profile.missing > 0
    same = detect_drift(baseline, {"k": RNG.choice([1.0, 2.0, 3.0, np.nan], 4000)}, MonitoringSettings())
    moved = detect_drift(baseline, {"k": RNG.choice([1.0, 3.0], 4000)}, MonitoringSettings())
    assert not same.features[0].drifted and moved.features[0].drifted


def test_the_baseline_survives_json_and_the_report_renders() -> None:
    # GIVEN a baseline written as JSON and read back
    baseline = _baseline()
    restored = Baseline.from_dict(json.loads(json.dumps(baseline.to_dict())))
    assert restored == baseline
    # WHEN a drift report is built from a check against it
    current = {"x": RNG.normal(3, 1, 500), "y": RNG.gamma(2.0, 1.0, 500), "colour": {"red": 400, None: 100}}
    result = detect_drift(restored, current, MonitoringSettings(), prediction={"a": 500})
    document = report_document(result, model="m", version=3, window={"from": "a", "to": "b"}, seconds=0.1,
                               checked_at="now")
    page = render_html(document)
    # THEN the JSON is strict JSON, the HTML has one plot per column, and the prediction drift is reported
    json.loads(json.dumps(document, allow_nan=False))
    assert page.count("<svg width=\"520\"") == 4 and "drift detected" in page
    assert document["prediction_drifted"] and document["features"][2]["missing_share"] == pytest.approx(0.2)
