"""sluice.serving: signatures, request instances, ONNX predictions and artifact integrity."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sluice.config import ColumnSpec, DataContract, EvaluationGates, ModelConfig, TrainingSettings
from sluice.serving import (
    MAX_INSTANCES,
    InputSpec,
    IntegrityError,
    InvalidInstances,
    ModelLoadError,
    ModelSignature,
    OnnxModel,
    SignatureError,
    build_inputs,
    verify_sha256,
)
from sluice.training import export_onnx, split_holdout, train_best


def contract_config(task: str, families: tuple[str, ...]) -> ModelConfig:
    return ModelConfig(
        name="rentals",
        task=task,  # type: ignore[arg-type]
        contract=DataContract(
            columns=(
                ColumnSpec("age", "float", nullable=True),
                ColumnSpec("rooms", "int"),
                ColumnSpec("city", "string", nullable=True),
                ColumnSpec("furnished", "bool"),
            ),
            target="label" if task == "classification" else "rent",
            target_type="string" if task == "classification" else "float",
        ),
        training=TrainingSettings(families=families, cv_folds=3, holdout_fraction=0.25, seed=3),
        gates=EvaluationGates(primary_metric="roc_auc" if task == "classification" else "rmse"),
    )


def rentals_frame(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    city = rng.choice(["paris", "lyon", "nice"], size=rows)
    furnished = rng.random(rows) < 0.4
    rooms = rng.integers(1, 6, size=rows)
    age = rng.uniform(0, 80, size=rows)
    rent = 400 * rooms + np.where(city == "paris", 900, 0) + np.where(furnished, 150, 0) - 3 * age
    rent = rent + rng.normal(0, 50, rows)
    return pd.DataFrame(
        {
            "age": age,
            "rooms": rooms,
            "city": city,
            "furnished": furnished,
            "rent": rent,
            "label": np.where(rent > np.median(rent), "pricey", "cheap"),
        }
    )


@pytest.fixture(scope="module")
def classifier() -> OnnxModel:
    config = contract_config("classification", ("logistic_regression",))
    train, holdout = split_holdout(rentals_frame().drop(columns="rent"), config)
    exported = export_onnx(train_best(train, config), config, holdout)
    return OnnxModel.from_bytes(exported.onnx_bytes, exported.signature)


@pytest.fixture(scope="module")
def regressor_and_train() -> tuple[OnnxModel, pd.DataFrame, bytes]:
    config = contract_config("regression", ("ridge",))
    train, holdout = split_holdout(rentals_frame().drop(columns="label"), config)
    exported = export_onnx(train_best(train, config), config, holdout)
    return OnnxModel.from_bytes(exported.onnx_bytes, exported.signature), train, exported.onnx_bytes


@pytest.fixture(scope="module")
def regressor(regressor_and_train) -> OnnxModel:
    return regressor_and_train[0]


def instance(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {"age": 12.5, "rooms": 3, "city": "paris", "furnished": True}
    values.update(overrides)
    return values


# -- import weight -----------------------------------------------------------------------------------------


def test_serving_imports_no_heavy_libraries():
    # GIVEN a fresh interpreter
    code = (
        "import sys, sluice.serving\n"
        "roots = {name.split('.')[0] for name in sys.modules}\n"
        "print(','.join(sorted(roots & {'pandas', 'pyarrow', 'scipy', 'sklearn'})))"
    )
    # WHEN it imports sluice.serving
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # THEN none of pandas, pyarrow, scipy or sklearn was loaded, not even indirectly
    assert completed.stdout.strip() == ""


# -- signature ---------------------------------------------------------------------------------------------


def test_signature_round_trips_through_json():
    # GIVEN a classification signature
    signature = ModelSignature(
        task="classification",
        inputs=(InputSpec("age", "float"), InputSpec("home city", "string", tensor="home_city")),
        target="label",
        classes=("cheap", "pricey"),
    )
    # WHEN it is written as JSON and read back THEN nothing is lost
    assert ModelSignature.from_dict(json.loads(json.dumps(signature.to_dict()))) == signature
    assert signature.input_names == ("age", "home city")
    assert [spec.tensor_name for spec in signature.inputs] == ["age", "home_city"]
    assert "tensor" not in signature.to_dict()["inputs"][0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"task": "regression", "target": "y"}, "malformed model signature"),
        (
            {"task": "ranking", "inputs": [{"name": "a", "kind": "float"}], "target": "y"},
            "task must be one of",
        ),
        (
            {"task": "regression", "inputs": [{"name": "a", "kind": "int"}], "target": "y"},
            "kind must be one of",
        ),
        (
            {"task": "classification", "inputs": [{"name": "a", "kind": "float"}], "target": "y"},
            "two distinct",
        ),
        (
            {"task": "regression", "inputs": [{"name": "a", "kind": "float"}] * 2, "target": "y"},
            "must be unique",
        ),
        (
            {"task": "regression", "inputs": [{"name": "a b", "kind": "float", "tensor": ""}], "target": "y"},
            "tensor must be a non-empty string",
        ),
        (
            {"task": "regression", "inputs": [{"name": "a b", "kind": "float", "tensor": "x"},
                                              {"name": "x", "kind": "float"}], "target": "y"},
            "tensor names must be unique",
        ),
    ],
)
def test_malformed_signatures_are_rejected(data, message):
    # GIVEN a malformed signature document WHEN read THEN a SignatureError explains it
    with pytest.raises(SignatureError, match=message):
        ModelSignature.from_dict(data)


# -- predictions -------------------------------------------------------------------------------------------


def test_classifier_returns_labels_and_probabilities(classifier):
    # GIVEN a cheap and a pricey flat WHEN predicted
    prediction = classifier.predict([instance(rooms=1, city="nice"), instance(rooms=5, city="paris")])
    # THEN labels are class names and probabilities are per-class dicts summing to one
    assert prediction.outputs == ["cheap", "pricey"]
    assert prediction.probabilities is not None
    for probabilities in prediction.probabilities:
        assert set(probabilities) == {"cheap", "pricey"}
        assert math.isclose(sum(probabilities.values()), 1.0, abs_tol=1e-5)
    assert prediction.probabilities[1]["pricey"] > 0.9


def test_regressor_returns_floats(regressor):
    # GIVEN two flats WHEN predicted THEN the values are Python floats, larger flats cost more
    prediction = regressor.predict([instance(rooms=1), instance(rooms=4)])
    assert all(type(value) is float for value in prediction.outputs)
    assert prediction.probabilities is None
    assert prediction.outputs[1] - prediction.outputs[0] > 1000


def test_null_number_is_imputed_with_the_training_median(regressor_and_train):
    # GIVEN a regressor and its training rows
    model, train, _ = regressor_and_train
    # WHEN the age is null, and when it is the training median
    missing, median = model.predict([instance(age=None), instance(age=float(train["age"].median()))]).outputs
    # THEN both predictions are the same
    assert missing == pytest.approx(median, rel=1e-5)


def test_null_or_empty_string_is_imputed_and_bools_are_text(regressor):
    # GIVEN null and empty city, and furnished as a bool or its text spelling
    outputs = regressor.predict(
        [instance(city=None), instance(city=""), instance(furnished=True), instance(furnished="true")]
    ).outputs
    # THEN null and empty are the same missing value, and a bool equals its text
    assert outputs[0] == outputs[1]
    assert outputs[2] == outputs[3]


def test_an_unseen_category_is_ignored_not_rejected(regressor):
    # GIVEN a city the model never saw WHEN predicted THEN a finite value comes back
    assert math.isfinite(regressor.predict([instance(city="atlantis")]).outputs[0])


def test_numpy_and_python_numbers_are_accepted_alike(regressor):
    # GIVEN the same flat with Python and with numpy numbers WHEN predicted THEN the outputs match
    plain, numpy_typed = regressor.predict(
        [instance(age=30.0, rooms=2), instance(age=np.float32(30.0), rooms=np.int64(2))]
    ).outputs
    assert plain == numpy_typed


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ({"age": 1}, "instances must be a non-empty list of objects"),
        ([], "instances must be a non-empty list of objects"),
        ([instance(), ["paris"]], "instance 1: expected an object of features, got list"),
        ([instance(), instance(), instance(), {"rooms": 2, "city": "nice", "furnished": False}], None),
        ([{**instance(), "foo": 1}], "instance 0: unknown feature 'foo'"),
        ([{"city": "nice"}], "instance 0: missing features 'age', 'rooms', 'furnished'"),
        ([instance(age="abc")], "instance 0: column 'age' breaks rule 'type': 'abc' cannot be read as float"),
        ([instance(), instance(rooms="3.5")], "instance 1: column 'rooms' breaks rule 'type'"),
        ([instance(rooms=True)], "instance 0: column 'rooms' breaks rule 'type'"),
        ([instance(age=float("inf"))], "instance 0: column 'age' breaks rule 'non_finite'"),
        ([instance(age=10**400)], "instance 0: column 'age' breaks rule 'non_finite'"),
        ([instance(age=1e300)], "instance 0: column 'age' breaks rule 'out_of_range': 1e+300 is outside the float32"),
        ([instance(city=2.5)], "instance 0: column 'city' breaks rule 'type'"),
        ([instance(furnished=None)], "instance 0: column 'furnished' breaks rule 'null'"),
        ([instance(furnished="maybe"), instance(rooms=None)],
         "instance 0: column 'furnished' breaks rule 'type': 'maybe' cannot be read as bool (and 1 more violations)"),
    ],
)
def test_invalid_instances_are_described_precisely(classifier, instances, message):
    # GIVEN a malformed request WHEN predicted THEN InvalidInstances says exactly what is wrong
    expected = message or "instance 3: missing feature 'age'"
    with pytest.raises(InvalidInstances) as raised:
        classifier.predict(instances)
    assert str(raised.value).startswith(expected)


def test_too_many_instances_are_refused(classifier):
    # GIVEN one instance more than the limit WHEN predicted THEN it is refused before any work
    with pytest.raises(InvalidInstances, match=f"too many instances: {MAX_INSTANCES + 1}"):
        classifier.predict([instance()] * (MAX_INSTANCES + 1))


def test_inputs_are_column_tensors(classifier):
    # GIVEN two instances WHEN turned into tensors THEN each input is an [N, 1] column of the right type
    tensors = build_inputs([instance(), instance(age=None, city=None)], classifier.signature)
    assert tensors["age"].dtype == np.float32 and tensors["age"].shape == (2, 1)
    assert math.isnan(tensors["age"][1, 0])
    assert tensors["city"].dtype == object and tensors["city"][:, 0].tolist() == ["paris", ""]
    assert tensors["furnished"][:, 0].tolist() == ["true", "true"]


# -- loading -----------------------------------------------------------------------------------------------


def test_garbage_bytes_do_not_load(classifier):
    # GIVEN bytes that are not ONNX WHEN loaded THEN ModelLoadError
    with pytest.raises(ModelLoadError, match="cannot load the ONNX model"):
        OnnxModel.from_bytes(b"not a model", classifier.signature)


def test_a_signature_that_does_not_match_the_model_is_refused(regressor_and_train):
    # GIVEN valid ONNX bytes and a signature naming other inputs
    _, _, onnx_bytes = regressor_and_train
    wrong = ModelSignature(task="regression", inputs=(InputSpec("age", "string"),), target="rent")
    # WHEN loaded THEN the mismatch is named
    with pytest.raises(ModelLoadError, match=r"missing \[\], unexpected \['city', 'furnished', 'rooms'\]"):
        OnnxModel.from_bytes(onnx_bytes, wrong)


def test_sessions_run_on_one_thread(classifier):
    # GIVEN a loaded model WHEN its session options are read THEN it is single-threaded and sequential
    options = classifier._session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.inter_op_num_threads == 1


# -- integrity ---------------------------------------------------------------------------------------------


def test_matching_sha256_passes():
    # GIVEN bytes and their digest (in any case) WHEN verified THEN nothing is raised
    data = b"model bytes"
    verify_sha256(data, hashlib.sha256(data).hexdigest().upper())


def test_sha256_mismatch_raises():
    # GIVEN bytes and the digest of other bytes WHEN verified THEN IntegrityError names both digests
    expected = hashlib.sha256(b"original").hexdigest()
    with pytest.raises(IntegrityError, match=f"sha256 mismatch: expected {expected}, got "):
        verify_sha256(b"tampered", expected)


def test_malformed_expected_digest_raises():
    # GIVEN a digest that is not 64 hex characters WHEN verified THEN IntegrityError
    with pytest.raises(IntegrityError, match="64 hex characters"):
        verify_sha256(b"data", "abc")
