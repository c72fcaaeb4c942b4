"""Train/serve parity, property-based: the endpoint reads every accepted spelling into the feature vector training
learnt from, and refuses exactly the values validation refuses.

Training path: ``check_file`` (validation, then normalize) → the accepted Parquet → ``feature_frame``.
Serving path: ``build_inputs`` on the same rows sent as spelled in the CSV, and as JSON-native values.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sluice.config import (
    ColumnSpec,
    DataContract,
    EvaluationGates,
    ModelConfig,
    TrainingSettings,
    load_config,
    load_config_text,
)
from sluice.contract.values import FALSE_TOKENS, TRUE_TOKENS, ValueRules, Violation, read_value
from sluice.data import Rule, check_file, from_parquet_bytes
from sluice.data.columns import ColumnRules
from sluice.data.infer import infer_contract
from sluice.data.infer_toml import contract_toml
from sluice.data.tally import Tally
from sluice.serving import build_inputs
from sluice.training.export import signature_for, value_rules
from sluice.training.features import feature_frame

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "layers" / "sluice" / "python" / "sluice" / "demo" / "data"
PADDING = st.sampled_from(["", " ", "  ", "\t", "\u00a0"])
NULL_SPELLINGS = ("", "NA", "n/a", "NULL", "None", "?")
PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])


# -- the two paths -----------------------------------------------------------------------------------------


def training_features(text: str, model: ModelConfig) -> pd.DataFrame:
    """Validate the CSV, keep the accepted (normalized) table and shape its features as training does."""
    sink = io.BytesIO()
    verdict = check_file(io.BytesIO(text.encode()), "drop.csv", model.contract, sink=sink)
    assert verdict.accepted, [issue.message for issue in verdict.report.issues]
    return feature_frame(from_parquet_bytes(sink.getvalue()).to_pandas(), model)


def json_native(text: str, model: ModelConfig) -> list[dict[str, Any]]:
    """The accepted rows as a JSON client sends them: numbers, true/false, strings, null."""
    sink = io.BytesIO()
    check_file(io.BytesIO(text.encode()), "drop.csv", model.contract, sink=sink)
    table = from_parquet_bytes(sink.getvalue()).select(list(model.contract.feature_names))
    return table.to_pylist()


def as_spelled(text: str, model: ModelConfig) -> list[dict[str, Any]]:
    """The CSV's rows as strings, exactly as written, with every contract column the request may carry."""
    names = set(model.contract.column_names)
    return [{name: value for name, value in row.items() if name in names} for row in csv.DictReader(io.StringIO(text))]


def assert_same_vector(instances: list[dict[str, Any]], expected: pd.DataFrame, model: ModelConfig) -> None:
    tensors = build_inputs(instances, signature_for(model, _classes(model)))
    for spec in model.contract.features:
        served = tensors[spec.name].reshape(-1)
        trained = expected[spec.name].to_numpy()
        if spec.is_categorical:
            assert served.tolist() == trained.tolist(), spec.name
        else:
            np.testing.assert_array_equal(served, trained.astype(np.float32), err_msg=spec.name)


def _classes(model: ModelConfig) -> tuple[str, ...] | None:
    values = model.contract.target_values
    return None if model.task == "regression" else tuple(str(value) for value in values or ("a", "b"))


# -- spellings the validator accepts -----------------------------------------------------------------------


def padded(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(PADDING, text, PADDING).map("".join)


def any_case(token: str) -> st.SearchStrategy[str]:
    flips = st.lists(st.booleans(), min_size=len(token), max_size=len(token))
    return flips.map(lambda upper: "".join(c.upper() if up else c for c, up in zip(token, upper, strict=True)))


def spelled(value: Any, spec: ColumnSpec) -> st.SearchStrategy[str]:
    """Every way the CSV may spell ``value`` (a canonical value of ``spec``'s type, None for missing)."""
    if value is None:
        return st.sampled_from(NULL_SPELLINGS).flatmap(any_case).flatmap(lambda token: padded(st.just(token)))
    if spec.type == "bool":
        tokens = TRUE_TOKENS if value else FALSE_TOKENS
        return padded(st.sampled_from(tokens).flatmap(any_case))
    if spec.type == "int":
        forms = [str(value), f"{value}.0", f"{value}.00"] + ([f"+{value}"] if value >= 0 else [])
        return padded(st.sampled_from(forms))
    if spec.type == "float":
        # an explicit "+" only before a value spelled without a sign (not -0.0, which is >= 0 but spelled "-0.0")
        forms = [repr(value), f"{value:.17e}", f"{value:.17E}"] + ([f"+{value!r}"] if math.copysign(1, value) > 0
                                                                    else [])
        if float(value).is_integer() and abs(value) < 1e15:
            forms.append(str(int(value)))
        return padded(st.sampled_from(forms))
    return padded(st.just(value)) if spec.trim else st.just(value)


def to_csv(rows: list[dict[str, str]], names: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# -- generated contracts over every column type ------------------------------------------------------------

MIXED = ModelConfig(
    name="mixed",
    task="classification",
    contract=DataContract(
        columns=(
            ColumnSpec("ratio", "float", nullable=True),
            ColumnSpec("amount", "float", min=-1e6, max=1e6),
            ColumnSpec("count", "int", nullable=True),
            ColumnSpec("rooms", "int"),
            ColumnSpec("member", "bool"),
            ColumnSpec("opted", "bool", nullable=True),
            ColumnSpec("label", "string", nullable=True),
            ColumnSpec("city", "string", nullable=True, trim=True),
            ColumnSpec("ref", "string", unique=True),
        ),
        target="y", target_type="string", target_values=("a", "b"), positive="a",
        min_rows=1, max_null_fraction=1.0, null_tokens=("?",),
    ),
    training=TrainingSettings(families=("logistic_regression",)),
    gates=EvaluationGates(primary_metric="roc_auc"),
)
TEXT = st.text(alphabet=" abXY-é/\u00a0", min_size=1, max_size=8)
CANONICAL: dict[str, st.SearchStrategy[Any]] = {
    "ratio": st.none() | st.floats(-1e9, 1e9, allow_nan=False),
    "amount": st.floats(-1e6, 1e6, allow_nan=False),
    "count": st.none() | st.integers(-(10**12), 10**12),
    "rooms": st.integers(0, 50),
    "member": st.booleans(),
    "opted": st.none() | st.booleans(),
    "label": st.none() | TEXT.filter(lambda text: text not in ("?",)) | st.sampled_from(["NA", "null", " NA "]),
    "city": st.none() | TEXT.filter(lambda text: text.strip() not in ("", "?")),
}


@st.composite
def mixed_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    count = draw(st.integers(2, 12))  # two rows at least: a classifier's file needs both classes
    rows = []
    for index in range(count):
        row = {name: draw(spelled(draw(strategy), MIXED.contract.column(name))) for name, strategy in CANONICAL.items()}
        rows.append({**row, "ref": f" r{index}", "y": "ab"[index % 2]})
    return rows


@PROPERTY
@given(mixed_rows())
def test_generated_rows_in_every_accepted_spelling_serve_the_vector_training_learnt(rows):
    # GIVEN rows of every column type, each value spelled any way the validator accepts
    text = to_csv(rows, [*CANONICAL, "ref", "y"])
    # WHEN the file is validated and shaped for training, and the same rows are sent to the endpoint
    expected = training_features(text, MIXED)
    # THEN the endpoint builds the training vector from the CSV spellings and from JSON-native values
    assert_same_vector(as_spelled(text, MIXED), expected, MIXED)
    assert_same_vector(json_native(text, MIXED), expected, MIXED)


# -- the demo datasets -------------------------------------------------------------------------------------

DEMO_FILES = {"breast-cancer": "breast_cancer.csv", "diabetes": "diabetes.csv"}


@pytest.fixture(scope="module")
def project():
    return load_config(REPO / "sluice.toml")


@pytest.mark.parametrize("name", sorted(DEMO_FILES))
def test_every_demo_row_as_written_and_as_json_serves_the_training_vector(project, name):
    # GIVEN a demo training file and its model's contract
    model = project.model(name)
    text = (DEMO / DEMO_FILES[name]).read_text()
    # WHEN validated and shaped for training THEN every row sent as written, and as JSON, gets the same vector
    expected = training_features(text, model)
    assert_same_vector(as_spelled(text, model), expected, model)
    assert_same_vector(json_native(text, model), expected, model)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(DEMO_FILES))
def test_demo_rows_respelled_any_accepted_way_serve_the_training_vector(project, name, data):
    # GIVEN some rows of a demo file, each value re-spelled any way the validator accepts
    model = project.model(name)
    model = dataclasses.replace(model, contract=dataclasses.replace(model.contract, min_rows=1))
    frame = pd.read_csv(DEMO / DEMO_FILES[name]).groupby(model.contract.target).head(6).head(12)
    rows = [{column: data.draw(_spell_cell(value, model, column)) for column, value in record.items()}
            for record in frame.to_dict(orient="records")]
    text = to_csv(rows, list(frame.columns))
    # WHEN validated and served THEN the vectors agree
    expected = training_features(text, model)
    assert_same_vector(as_spelled(text, model), expected, model)


def _spell_cell(value: Any, model: ModelConfig, column: str) -> st.SearchStrategy[str]:
    if column not in model.contract.column_names:
        return st.just(str(value))
    spec = model.contract.column(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return spelled(None, spec) if spec.nullable else st.just("")
    if spec.type == "int":
        return spelled(int(value), spec)
    return spelled(float(value) if spec.type == "float" else value, spec)


# -- accept or refuse, value by value ----------------------------------------------------------------------

VALUE_SPECS = (
    ColumnSpec("f", "float", min=-10.0, max=1e6),
    ColumnSpec("fn", "float", nullable=True),
    ColumnSpec("i", "int", min=0, max=100),
    ColumnSpec("b", "bool"),
    ColumnSpec("bn", "bool", nullable=True),
    ColumnSpec("s", "string", allowed=("red", "green", " blue")),
    ColumnSpec("st", "string", nullable=True, trim=True, max_length=4),
)
TOKENS = ("?", "-")
RAW_TEXT = (st.text(alphabet="0123456789+-.eEinfaINFAtrueFALSYyNno/ ?\t", max_size=8)
            | st.sampled_from(["red", " red", "blue", " blue", "green ", "NA", "n/a", "inf", "nan", "1e400", "0x1F",
                               "1_000", "\u0663", "\uff11", "\u0130nf", "\u212a", "1.", ".5", "-0", "+0.0", "TRUE",
                               "yes", "Y", "0", "1", "2"]))
NATIVE = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
          | st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not math.isfinite(x) or abs(x) < 3e38))


def validator_accepts(value: Any, spec: ColumnSpec) -> bool:
    rules = ColumnRules.for_feature(spec, TOKENS)
    tallies = {rule: Tally() for rule in Rule}
    rules.check(pa.array([value]), 0, tallies)
    broken = [rule for rule, tally in tallies.items() if tally.count and not (rule == Rule.NULL and spec.nullable)]
    return not broken


def endpoint_accepts(value: Any, spec: ColumnSpec) -> bool:
    return not isinstance(read_value(value, value_rules(spec, TOKENS)), Violation)


@settings(max_examples=300, deadline=None)
@given(value=RAW_TEXT, spec=st.sampled_from(VALUE_SPECS))
def test_validator_and_endpoint_agree_on_every_text_value(value, spec):
    assert validator_accepts(value, spec) == endpoint_accepts(value, spec)


@settings(max_examples=300, deadline=None)
@given(value=NATIVE, spec=st.sampled_from([spec for spec in VALUE_SPECS if spec.type != "string"]))
def test_validator_and_endpoint_agree_on_every_json_native_value(value, spec):
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        value = float(value)  # no Arrow int holds it: such a JSON number reaches validation as a float
    assert validator_accepts(value, spec) == endpoint_accepts(value, spec)


def test_the_value_rules_of_a_column_are_the_contracts():
    rules = value_rules(ColumnSpec("x", "int", nullable=True, min=0, max=9, allowed=("1", "2")), ("?",))
    assert rules == ValueRules("int", nullable=True, minimum=0, maximum=9, allowed=("1", "2"), null_tokens=("?",))
    assert rules.allowed_values == frozenset({1, 2})


# -- real exports (tests/data/real, with the contracts `sluice contract infer` drafts for them) -----------------

REAL = REPO / "tests" / "data" / "real"
REAL_SETS = json.loads((REAL / "manifest.json").read_text())["datasets"] if (REAL / "manifest.json").exists() else []


@pytest.mark.parametrize("dataset", REAL_SETS, ids=[item["slug"] for item in REAL_SETS])
def test_every_row_of_a_real_export_as_written_and_as_json_serves_the_training_vector(dataset):
    # GIVEN a real public dataset exported as its source ships it (NA tokens, Yes/No, row names) and its drafted
    # contract
    text = (REAL / dataset["file"]).read_text()
    draft = infer_contract(io.BytesIO(text.encode()), dataset["file"], target=dataset["target"])
    model = load_config_text(contract_toml("real", draft), source="draft").model("real")
    # WHEN validated and shaped for training THEN every row sent as written, and as JSON, gets the same vector
    expected = training_features(text, model)
    assert_same_vector(as_spelled(text, model), expected, model)
    assert_same_vector(json_native(text, model), expected, model)
