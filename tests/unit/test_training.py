"""sluice.training: holdout split, candidate search, ONNX export and its verification."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import sluice.training.export as export_module
from sluice.config import (
    ColumnSpec,
    DataContract,
    EvaluationGates,
    ModelConfig,
    TrainingSettings,
    load_config,
)
from sluice.contract.values import ValueRules
from sluice.serving import InputSpec, ModelSignature, OnnxModel
from sluice.training import (
    ExportError,
    FrameError,
    TrainingError,
    export_onnx,
    feature_frame,
    instances_from_frame,
    split_holdout,
    train_best,
)
from sluice.training.families import KEY_PARAMS

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "layers" / "sluice" / "python" / "sluice" / "demo" / "data"


@pytest.fixture(scope="module")
def project():
    return load_config(ROOT / "sluice.toml")


@pytest.fixture(scope="module")
def cancer_config(project):
    return project.model("breast-cancer")


@pytest.fixture(scope="module")
def diabetes_config(project):
    return project.model("diabetes")


@pytest.fixture(scope="module")
def cancer_frame():
    return pd.read_csv(DATA / "breast_cancer.csv")


@pytest.fixture(scope="module")
def diabetes_frame():
    return pd.read_csv(DATA / "diabetes.csv")


def with_training(model: ModelConfig, **changes) -> ModelConfig:
    return dataclasses.replace(model, training=dataclasses.replace(model.training, **changes))


def shop_config(families: tuple[str, ...] = ("logistic_regression",)) -> ModelConfig:
    """A small classification contract with a float, a string and a bool feature."""
    return ModelConfig(
        name="shop",
        task="classification",
        contract=DataContract(
            columns=(
                ColumnSpec("basket", "float"),
                ColumnSpec("channel", "string", nullable=True),
                ColumnSpec("member", "bool"),
            ),
            target="bought",
            target_type="string",
        ),
        training=TrainingSettings(families=families, cv_folds=3, holdout_fraction=0.25, seed=7),
        gates=EvaluationGates(primary_metric="roc_auc"),
    )


def shop_frame(rows: int = 240, seed: int = 0) -> pd.DataFrame:
    """Buying depends mostly on the channel (a string column, sometimes missing) and membership."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(["web", "store", "phone"], size=rows).astype(object)
    channel[rng.random(rows) < 0.1] = None
    member = rng.random(rows) < 0.5
    basket = rng.normal(50, 10, size=rows)
    odds = np.where(channel == "web", 2.0, -1.0) + np.where(member, 1.0, -0.5) + rng.normal(0, 0.5, rows)
    return pd.DataFrame(
        {"basket": basket, "channel": channel, "member": member, "bought": np.where(odds > 0, "yes", "no")}
    )


# -- split_holdout -----------------------------------------------------------------------------------------


def test_split_is_deterministic_stratified_and_complete(cancer_frame, cancer_config):
    # GIVEN the breast-cancer data and its config (holdout 20 %, seed 42)
    # WHEN it is split twice
    train_a, holdout_a = split_holdout(cancer_frame, cancer_config)
    train_b, holdout_b = split_holdout(cancer_frame.copy(), cancer_config)
    # THEN both splits are identical, disjoint, complete and 20 % holdout
    assert list(train_a.index) == list(train_b.index)
    assert list(holdout_a.index) == list(holdout_b.index)
    assert set(train_a.index).isdisjoint(holdout_a.index)
    assert len(train_a) + len(holdout_a) == len(cancer_frame)
    assert len(holdout_a) == pytest.approx(0.2 * len(cancer_frame), abs=1)
    # AND the class balance is preserved (stratified)
    overall = cancer_frame["diagnosis"].value_counts(normalize=True)
    held = holdout_a["diagnosis"].value_counts(normalize=True)
    assert (held - overall).abs().max() < 0.01


def test_split_depends_on_the_configured_seed(diabetes_frame, diabetes_config):
    # GIVEN two configs that differ only in their seed
    other = with_training(diabetes_config, seed=7)
    # WHEN the same regression data is split with each
    _, holdout_42 = split_holdout(diabetes_frame, diabetes_config)
    _, holdout_7 = split_holdout(diabetes_frame, other)
    # THEN the holdouts differ
    assert set(holdout_42.index) != set(holdout_7.index)


def test_split_rejects_a_class_too_rare_to_stratify():
    # GIVEN a frame where one class has a single row
    frame = shop_frame(40)
    frame.loc[:, "bought"] = "no"
    frame.loc[0, "bought"] = "yes"
    # WHEN it is split THEN a TrainingError explains why
    with pytest.raises(TrainingError, match="cannot split 40 rows"):
        split_holdout(frame, shop_config())


# -- train_best --------------------------------------------------------------------------------------------


def test_classification_cross_validates_every_family_and_refits_the_best(cancer_frame, cancer_config):
    # GIVEN the breast-cancer training rows and two candidate families
    train, _ = split_holdout(cancer_frame, cancer_config)
    # WHEN the best candidate is trained
    result = train_best(train, cancer_config)
    # THEN every family was scored by roc_auc and the best mean won
    assert result.cv_metric == "roc_auc"
    assert set(result.cv) == set(cancer_config.training.families) and len(result.cv) >= 2
    assert result.family == max(result.cv, key=lambda family: result.cv[family]["mean"])
    assert all(0.9 < scores["mean"] <= 1.0 and scores["std"] >= 0 for scores in result.cv.values())
    # AND the result describes the fitted pipeline
    assert result.classes == ("benign", "malignant")
    assert result.feature_names == cancer_config.contract.feature_names
    assert result.training_rows == len(train)
    assert json.loads(json.dumps(result.params)) == result.params
    assert result.duration_s > 0  # recorded, not judged: a time limit would fail on a busy machine
    assert result.pipeline.predict(feature_frame(train.head(3), cancer_config)).tolist()[0] in result.classes


def test_regression_picks_the_lowest_rmse(diabetes_frame, diabetes_config):
    # GIVEN the diabetes training rows (numeric features and the string column "sex")
    train, _ = split_holdout(diabetes_frame, diabetes_config)
    # WHEN the best candidate is trained
    result = train_best(train, diabetes_config)
    # THEN candidates were compared by RMSE, lower being better
    assert result.cv_metric == "rmse"
    assert result.family == min(result.cv, key=lambda family: result.cv[family]["mean"])
    assert 30 < result.cv[result.family]["mean"] < 80
    assert result.classes is None
    assert set(result.params) == set(KEY_PARAMS[result.family])


def test_training_is_reproducible(diabetes_frame, diabetes_config):
    # GIVEN the same rows and config
    train, _ = split_holdout(diabetes_frame, diabetes_config)
    model = with_training(diabetes_config, families=("random_forest",), cv_folds=2)
    # WHEN trained twice
    first, second = train_best(train, model), train_best(train, model)
    # THEN the cross-validation scores are identical
    assert first.cv == second.cv


def test_string_and_bool_columns_are_imputed_and_one_hot_encoded():
    # GIVEN a frame whose target depends on a string column with missing values and a bool column
    config = shop_config(("logistic_regression", "hist_gradient_boosting"))
    train, holdout = split_holdout(shop_frame(), config)
    # WHEN trained
    result = train_best(train, config)
    # THEN the categorical signal is learned
    assert result.cv[result.family]["mean"] > 0.85
    features = feature_frame(holdout, config)
    assert set(features["member"]) <= {"true", "false"}
    assert "" in set(feature_frame(train, config)["channel"])
    # AND an unseen category or a missing value does not break prediction
    odd = features.head(2).copy()
    odd.loc[odd.index[0], "channel"] = "carrier pigeon"
    odd.loc[odd.index[1], "channel"] = ""
    assert len(result.pipeline.predict_proba(odd)) == 2


def test_training_rejects_a_class_with_fewer_rows_than_folds(cancer_frame, cancer_config):
    # GIVEN training rows with only 3 malignant cases and 5-fold CV
    benign = cancer_frame[cancer_frame["diagnosis"] == "benign"]
    malignant = cancer_frame[cancer_frame["diagnosis"] == "malignant"].head(3)
    # WHEN trained THEN the error names the class and the requirement
    with pytest.raises(TrainingError, match="class 'malignant' has only 3 training rows"):
        train_best(pd.concat([benign, malignant]), cancer_config)


def test_training_rejects_a_single_class(cancer_frame, cancer_config):
    # GIVEN only benign rows WHEN trained THEN a TrainingError says so
    with pytest.raises(TrainingError, match="single class"):
        train_best(cancer_frame[cancer_frame["diagnosis"] == "benign"], cancer_config)


def test_missing_feature_column_is_reported(diabetes_frame, diabetes_config):
    # GIVEN a frame without the "bmi" column WHEN trained THEN the column is named
    with pytest.raises(FrameError, match="no column 'bmi'"):
        train_best(diabetes_frame.drop(columns="bmi"), diabetes_config)


# -- export_onnx -------------------------------------------------------------------------------------------


def with_gaps(frame: pd.DataFrame, numeric: str, categorical: str | None) -> pd.DataFrame:
    """A copy with missing values, so the ONNX imputers are exercised too."""
    gapped = frame.copy()
    gapped[numeric] = gapped[numeric].astype("float64")
    gapped.loc[gapped.index[:3], numeric] = np.nan
    if categorical is not None:
        gapped[categorical] = gapped[categorical].astype(object)
        gapped.loc[gapped.index[3:5], categorical] = None
    return gapped


@pytest.mark.parametrize("family", ["logistic_regression", "random_forest", "hist_gradient_boosting"])
def test_classifiers_export_to_onnx_that_agrees_with_scikit_learn(family, cancer_frame, cancer_config):
    # GIVEN a breast-cancer model of one family
    config = with_training(cancer_config, families=(family,), cv_folds=2)
    train, holdout = split_holdout(cancer_frame, config)
    result = train_best(train, config)
    # WHEN exported and verified on the holdout (with missing values)
    exported = export_onnx(result, config, with_gaps(holdout, "mean_radius", None))
    # THEN probabilities agree within 1e-4 and every label agrees
    assert exported.labels_agree
    assert exported.max_abs_diff <= 1e-4
    assert exported.signature.classes == ("benign", "malignant")
    # AND the bytes load and predict on their own
    prediction = OnnxModel.from_bytes(exported.onnx_bytes, exported.signature).predict(
        instances_from_frame(holdout.head(2), config)
    )
    assert set(prediction.outputs) <= {"benign", "malignant"}


@pytest.mark.parametrize("family", ["ridge", "random_forest", "hist_gradient_boosting"])
def test_regressors_export_to_onnx_that_agrees_with_scikit_learn(family, diabetes_frame, diabetes_config):
    # GIVEN a diabetes model of one family (numeric features plus the string column "sex")
    config = with_training(diabetes_config, families=(family,), cv_folds=2)
    train, holdout = split_holdout(diabetes_frame, config)
    result = train_best(train, config)
    # WHEN exported and verified on the holdout, with missing numbers and missing strings
    exported = export_onnx(result, config, with_gaps(holdout, "bmi", "sex"))
    # THEN the values agree (float32 ONNX vs float64 scikit-learn, relative above 1)
    assert exported.max_abs_diff < 1e-2
    sex_rules = ValueRules("string", allowed=("female", "male"))
    assert exported.signature.inputs[1] == InputSpec("sex", "string", rules=sex_rules)
    assert exported.signature.classes is None


def test_hist_gradient_boosting_converts_with_the_pinned_onnx_stack():
    # GIVEN a HistGradientBoosting classifier on string, bool and float features
    config = shop_config(("hist_gradient_boosting",))
    train, holdout = split_holdout(shop_frame(), config)
    result = train_best(train, config)
    # WHEN exported THEN skl2onnx converts it and onnxruntime agrees
    exported = export_onnx(result, config, holdout)
    assert exported.max_abs_diff <= 1e-4


@pytest.mark.parametrize("family", ["logistic_regression", "hist_gradient_boosting"])
def test_feature_names_that_are_not_identifiers_still_serve_onnx(family):
    # GIVEN features named like real exports ("mean radius", "a/b", "1st", "é-x"), which skl2onnx renames
    names = {"basket": "basket total/€", "channel": "sales channel", "member": "1st-member"}
    config = shop_config((family,))
    contract = dataclasses.replace(config.contract, columns=tuple(
        dataclasses.replace(column, name=names[column.name]) for column in config.contract.columns))
    config = dataclasses.replace(config, contract=contract)
    train, holdout = split_holdout(shop_frame().rename(columns=names), config)
    # WHEN trained and exported
    exported = export_onnx(train_best(train, config), config, holdout)
    # THEN the export is served as ONNX: requests keep the feature names, the graph inputs are recorded
    assert [spec.name for spec in exported.signature.inputs] == list(names.values())
    assert all(spec.tensor is not None and spec.tensor.isidentifier() for spec in exported.signature.inputs)
    model = OnnxModel.from_bytes(exported.onnx_bytes, ModelSignature.from_dict(exported.signature.to_dict()))
    prediction = model.predict(instances_from_frame(holdout.head(3), config))
    assert set(prediction.outputs) <= {"yes", "no"}


def test_export_records_the_signature_in_the_onnx_metadata(diabetes_frame, diabetes_config):
    # GIVEN an exported ridge model
    config = with_training(diabetes_config, families=("ridge",), cv_folds=2)
    train, holdout = split_holdout(diabetes_frame, config)
    exported = export_onnx(train_best(train, config), config, holdout)
    # WHEN the ONNX metadata is read
    props = {prop.key: prop.value for prop in onnx.load_from_string(exported.onnx_bytes).metadata_props}
    # THEN it names the model and family and carries the signature
    assert props["sluice.model"] == "diabetes"
    assert props["sluice.family"] == "ridge"
    assert json.loads(props["sluice.signature"]) == exported.signature.to_dict()


def test_export_rejects_an_onnx_model_that_disagrees(diabetes_frame, diabetes_config, monkeypatch):
    # GIVEN a ridge model, and the ONNX bytes of another ridge trained on a doubled target
    config = with_training(diabetes_config, families=("ridge",), cv_folds=2)
    train, holdout = split_holdout(diabetes_frame, config)
    result = train_best(train, config)
    doubled = train.assign(progression=train["progression"] * 2)
    other = export_onnx(train_best(doubled, config), config, holdout)
    monkeypatch.setattr(export_module, "_convert", lambda *args: (other.onnx_bytes, other.signature))
    # WHEN the first model's export is verified THEN the disagreement is reported
    with pytest.raises(ExportError, match="disagrees with scikit-learn: max abs diff"):
        export_onnx(result, config, holdout)


def test_export_rejects_an_onnx_model_whose_labels_differ(cancer_frame, cancer_config, monkeypatch):
    # GIVEN a classifier, and the ONNX bytes of one trained on swapped labels
    config = with_training(cancer_config, families=("logistic_regression",), cv_folds=2)
    train, holdout = split_holdout(cancer_frame, config)
    result = train_best(train, config)
    swapped = train.assign(diagnosis=train["diagnosis"].map({"benign": "malignant", "malignant": "benign"}))
    other = export_onnx(train_best(swapped, config), config, holdout)
    monkeypatch.setattr(export_module, "_convert", lambda *args: (other.onnx_bytes, other.signature))
    # WHEN verified THEN the label mismatch is reported with an example row
    with pytest.raises(ExportError, match=r"predicts different labels on \d+ of \d+ sample rows \(row 0"):
        export_onnx(result, config, holdout)


def test_export_reports_a_pipeline_skl2onnx_cannot_convert(diabetes_frame, diabetes_config):
    # GIVEN a result whose pipeline holds a custom Python function
    config = with_training(diabetes_config, families=("ridge",), cv_folds=2)
    train, holdout = split_holdout(diabetes_frame, config)
    result = train_best(train, config)
    custom = Pipeline([("custom", FunctionTransformer(np.log1p)), *result.pipeline.steps])
    # WHEN exported THEN the conversion failure is an ExportError
    with pytest.raises(ExportError, match="skl2onnx cannot convert the ridge pipeline"):
        export_onnx(dataclasses.replace(result, pipeline=custom), config, holdout)


def test_export_needs_a_sample(diabetes_frame, diabetes_config):
    # GIVEN a trained model WHEN exported with an empty sample THEN it refuses
    config = with_training(diabetes_config, families=("ridge",), cv_folds=2)
    train, _ = split_holdout(diabetes_frame, config)
    with pytest.raises(ExportError, match="empty sample"):
        export_onnx(train_best(train, config), config, diabetes_frame.head(0))
