"""sluice.evaluation: scoring through the served ONNX model, and the promotion gates."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, mean_absolute_error, roc_auc_score, root_mean_squared_error

import sluice.evaluation.predictions as predictions_module
from sluice.config import (
    ColumnSpec,
    DataContract,
    EvaluationGates,
    ModelConfig,
    TrainingSettings,
    load_config,
)
from sluice.evaluation import EvaluationError, decide, positive_label, score
from sluice.serving import OnnxModel
from sluice.training import export_onnx, feature_frame, split_holdout, train_best

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "layers" / "sluice" / "python" / "sluice" / "demo" / "data"


def served(frame: pd.DataFrame, config: ModelConfig, family: str):
    """Train one family on the split's training rows and load its ONNX export as the endpoint would."""
    config = dataclasses.replace(config, training=dataclasses.replace(config.training, families=(family,)))
    train, holdout = split_holdout(frame, config)
    result = train_best(train, config)
    exported = export_onnx(result, config, holdout)
    return OnnxModel.from_bytes(exported.onnx_bytes, exported.signature), result, holdout


@pytest.fixture(scope="module")
def project():
    return load_config(ROOT / "sluice.toml")


@pytest.fixture(scope="module")
def cancer(project):
    config = project.model("breast-cancer")
    return (config, *served(pd.read_csv(DATA / "breast_cancer.csv"), config, "logistic_regression"))


@pytest.fixture(scope="module")
def diabetes(project):
    config = project.model("diabetes")
    return (config, *served(pd.read_csv(DATA / "diabetes.csv"), config, "ridge"))


# -- score -------------------------------------------------------------------------------------------------


def test_binary_classification_is_scored_through_onnx(cancer):
    # GIVEN the served breast-cancer model and its holdout
    config, model, result, holdout = cancer
    # WHEN scored
    metrics = score(model, holdout, config)
    # THEN all classification metrics are there and match scikit-learn's view of the same pipeline
    assert set(metrics) == {"roc_auc", "pr_auc", "accuracy", "f1", "log_loss", "brier", "ece"}
    assert all(type(value) is float for value in metrics.values())
    features = feature_frame(holdout, config)
    truth = holdout["diagnosis"].tolist()
    probabilities = result.pipeline.predict_proba(features)[:, list(result.classes).index("malignant")]
    assert metrics["roc_auc"] == pytest.approx(
        roc_auc_score([t == "malignant" for t in truth], probabilities), abs=1e-4
    )
    assert metrics["f1"] == pytest.approx(
        f1_score(truth, result.pipeline.predict(features), pos_label="malignant"), abs=1e-9
    )
    assert metrics["roc_auc"] > 0.95 and metrics["accuracy"] > 0.9 and 0 < metrics["log_loss"] < 0.3


def test_positive_label_is_the_configured_positive_class(cancer):
    # GIVEN positive = "malignant" and scikit-learn's sorted classes ("benign", "malignant")
    config, model, _, _ = cancer
    # WHEN the positive class is chosen THEN it is the configured one
    assert positive_label(config, model.signature.classes) == "malignant"
    # AND without a configured positive class it is classes[1]
    unconfigured = dataclasses.replace(
        config, contract=dataclasses.replace(config.contract, target_values=None, positive=None)
    )
    assert positive_label(unconfigured, ("benign", "malignant")) == "malignant"
    assert positive_label(unconfigured, ("malignant", "benign")) == "benign"


def test_regression_is_scored_through_onnx(diabetes):
    # GIVEN the served diabetes model and its holdout
    config, model, result, holdout = diabetes
    # WHEN scored
    metrics = score(model, holdout, config)
    # THEN rmse, mae and r2 match scikit-learn on the same rows
    expected = result.pipeline.predict(feature_frame(holdout, config))
    assert set(metrics) == {"rmse", "mae", "r2"}
    assert metrics["rmse"] == pytest.approx(root_mean_squared_error(holdout["progression"], expected), rel=1e-5)
    assert metrics["mae"] == pytest.approx(mean_absolute_error(holdout["progression"], expected), rel=1e-5)
    assert 0.2 < metrics["r2"] < 1


def test_large_holdouts_are_scored_in_request_sized_batches(diabetes, monkeypatch):
    # GIVEN a request limit far smaller than the holdout
    config, model, _, holdout = diabetes
    whole = score(model, holdout, config)
    monkeypatch.setattr(predictions_module, "MAX_INSTANCES", 7)
    # WHEN scored THEN the metrics are unchanged
    assert score(model, holdout, config) == pytest.approx(whole)


def test_multiclass_uses_one_vs_rest_auc_and_macro_f1():
    # GIVEN a three-class problem
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 2))
    label = np.select([x[:, 0] > 0.5, x[:, 1] > 0], ["a", "b"], "c")
    frame = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "kind": label})
    config = ModelConfig(
        name="three",
        task="classification",
        contract=DataContract(
            columns=(ColumnSpec("x0", "float"), ColumnSpec("x1", "float")),
            target="kind",
            target_type="string",
        ),
        training=TrainingSettings(families=("logistic_regression",), cv_folds=3),
        gates=EvaluationGates(primary_metric="roc_auc"),
    )
    model, _, holdout = served(frame, config, "logistic_regression")
    # WHEN scored THEN every metric is defined
    metrics = score(model, holdout, config)
    assert model.signature.classes == ("a", "b", "c")
    assert metrics["roc_auc"] > 0.9 and 0 < metrics["f1"] <= 1 and math.isfinite(metrics["log_loss"])


class _Float32Rounding:
    """The served model with the rounding a float32 tree ensemble produces: a certain row's probability is
    1.0000013 and its complement -1.3e-6 (seen on a real dataset from skl2onnx's HistGradientBoosting export)."""

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        self.signature = model.signature

    def predict(self, instances):
        prediction = self.model.predict(instances)
        strayed = [
            {label: (1.0000013 if value > 0.5 else -1.3e-6) for label, value in row.items()}
            for row in prediction.probabilities
        ]
        return dataclasses.replace(prediction, probabilities=strayed)

    def explainer(self):
        return None


def test_probabilities_a_float32_model_rounds_past_0_and_1_are_clipped_before_scoring(cancer):
    # GIVEN a served model whose probabilities stray past [0, 1] by float32 rounding
    config, model, _, holdout = cancer
    rounding = _Float32Rounding(model)
    # WHEN its holdout is predicted and scored
    predicted = predictions_module.predict_holdout(rounding, holdout, config)
    metrics = score(rounding, holdout, config)
    # THEN every probability is within [0, 1], every row sums to 1, and every metric is a finite number
    assert predicted.probabilities is not None
    assert predicted.probabilities.min() >= 0.0 and predicted.probabilities.max() <= 1.0
    assert np.allclose(predicted.probabilities.sum(axis=1), 1.0)
    assert all(math.isfinite(value) for value in metrics.values())
    # AND the clip changes nothing else: the labels and the ranking are the model's own
    assert metrics["accuracy"] == pytest.approx(score(model, holdout, config)["accuracy"])


def test_a_single_class_holdout_cannot_be_scored(cancer):
    # GIVEN a holdout of benign rows only WHEN scored THEN EvaluationError explains why
    config, model, _, holdout = cancer
    with pytest.raises(EvaluationError, match="single class"):
        score(model, holdout[holdout["diagnosis"] == "benign"], config)


def test_a_model_of_the_other_task_is_refused(cancer, diabetes):
    # GIVEN the regression model and the classification config WHEN scored THEN EvaluationError
    config, _, _, holdout = cancer
    _, regression_model, _, _ = diabetes
    with pytest.raises(EvaluationError, match="a regression model cannot be scored as classification"):
        score(regression_model, holdout, config)


# -- decide ------------------------------------------------------------------------------------------------

CLASSIFICATION_GATES = EvaluationGates(
    primary_metric="roc_auc", min_metrics={"roc_auc": 0.9, "accuracy": 0.85}, max_regression=0.01
)
REGRESSION_GATES = EvaluationGates(primary_metric="rmse", min_metrics={"r2": 0.2}, max_regression=0.01)


def test_first_model_above_its_floors_is_approved_with_reasons():
    # GIVEN a candidate above every floor and no live model
    decision = decide({"roc_auc": 0.97, "accuracy": 0.93}, None, CLASSIFICATION_GATES)
    # THEN it is approved and the reasons say why
    assert decision.approved
    assert decision.reasons == (
        "roc_auc 0.970 meets the floor 0.900",
        "accuracy 0.930 meets the floor 0.850",
        "there is no live model to compare against",
    )
    assert [check["name"] for check in decision.checks] == ["roc_auc floor", "accuracy floor"]
    assert decision.checks[0] | {"reason": None} == {
        "name": "roc_auc floor",
        "value": 0.97,
        "threshold": 0.9,
        "passed": True,
        "reason": None,
    }


def test_candidate_below_a_floor_is_rejected():
    # GIVEN a candidate whose roc_auc is below the floor
    decision = decide({"roc_auc": 0.871, "accuracy": 0.93}, None, CLASSIFICATION_GATES)
    # THEN it is rejected with exactly that reason
    assert not decision.approved
    assert decision.reasons == ("roc_auc 0.871 is below the floor 0.900",)


def test_candidate_worse_than_live_beyond_the_allowed_regression_is_rejected():
    # GIVEN a regression candidate whose RMSE is far worse than live's
    decision = decide({"rmse": 61.2, "r2": 0.4}, {"rmse": 55.0, "r2": 0.45}, REGRESSION_GATES)
    # THEN it is rejected against live, direction-aware (lower RMSE is better)
    assert not decision.approved
    assert decision.reasons == ("rmse 61.2 is worse than live 55.0 by more than 0.01",)
    live_check = decision.checks[-1]
    assert live_check["name"] == "rmse vs live" and live_check["threshold"] == pytest.approx(55.01)


def test_candidate_slightly_worse_than_live_within_tolerance_is_approved():
    # GIVEN a roc_auc 0.005 below live with 0.01 allowed
    decision = decide({"roc_auc": 0.955, "accuracy": 0.9}, {"roc_auc": 0.96}, CLASSIFICATION_GATES)
    # THEN it is approved, and the reason says it is within the allowance
    assert decision.approved
    assert "roc_auc 0.955 is within 0.01 of live 0.960" in decision.reasons


def test_exactly_at_the_allowed_regression_is_approved():
    # GIVEN a candidate exactly max_regression below live (float rounding included)
    decision = decide({"roc_auc": 0.95, "accuracy": 0.9}, {"roc_auc": 0.96}, CLASSIFICATION_GATES)
    # THEN it is approved
    assert decision.approved


def test_better_than_live_is_approved_for_lower_is_better_metrics():
    # GIVEN an RMSE lower than live's
    decision = decide({"rmse": 50.0, "r2": 0.5}, {"rmse": 55.0, "r2": 0.4}, REGRESSION_GATES)
    # THEN it is approved as an improvement
    assert decision.approved
    assert decision.reasons == ("r2 0.500 meets the floor 0.200", "rmse 50.0 improves on live 55.0")


def test_a_configured_lower_is_better_metric_is_a_ceiling():
    # GIVEN gates with rmse 60 and log_loss 0.3 configured: both are ceilings
    gates = EvaluationGates(primary_metric="rmse", min_metrics={"rmse": 60.0, "mae": 45.0})
    # WHEN one candidate is under both ceilings and another is above one
    under = decide({"rmse": 58.0, "mae": 44.0}, None, gates)
    over = decide({"rmse": 61.2, "mae": 44.0}, None, gates)
    # THEN the first is approved, the second rejected with a ceiling reason
    assert under.approved
    assert under.reasons[0] == "rmse 58.0 is within the ceiling 60.0"
    assert not over.approved
    assert over.reasons == ("rmse 61.2 is above the ceiling 60.0",)
    assert over.checks[0]["name"] == "rmse ceiling"


def test_a_missing_or_nan_metric_fails_its_gate():
    # GIVEN a candidate without accuracy and with a NaN roc_auc
    decision = decide({"roc_auc": float("nan")}, {"roc_auc": 0.9}, CLASSIFICATION_GATES)
    # THEN every gate that depends on them fails, each with its reason
    assert not decision.approved
    assert decision.reasons == (
        "roc_auc is not a number, so its floor 0.900 cannot be checked",
        "accuracy was not measured, so its floor 0.850 cannot be checked",
        "roc_auc is not a number, so it cannot be compared with live",
    )


def test_no_floors_and_no_live_model_is_approved_and_says_so():
    # GIVEN gates without floors and no live model WHEN decided THEN approved with an explanation
    decision = decide({"rmse": 70.0}, None, EvaluationGates(primary_metric="rmse"))
    assert decision.approved
    assert decision.reasons == (
        "there is no live model to compare against",
        "no metric floors are configured",
    )
