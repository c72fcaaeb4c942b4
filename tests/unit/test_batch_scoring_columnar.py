"""No skew in batch scoring: the columnar scorer (a batch's columns read with the contract's Arrow conversion, its
clean rows predicted in one model run) writes exactly what the endpoint's row-at-a-time reader writes — prediction,
probabilities and contract verdict, row for row — on the demo files, real exports and a file with bad rows of every
kind, from CSV and from typed Parquet, and rows re-spelled any way at all (property-based), with the ONNX model and
with the scikit-learn fallback."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sluice.config import ModelConfig, load_config, load_config_text
from sluice.data import check_file, from_parquet_bytes
from sluice.data.batches import open_batches
from sluice.data.infer import infer_contract
from sluice.data.infer_toml import contract_toml
from sluice.scoring.batch import BatchScorer, ScoreCounts
from sluice.serving import OnnxModel, ServedModel
from sluice.serving.sklearn_model import SklearnModel
from sluice.training import export_onnx
from sluice.training.families import build_pipeline
from sluice.training.features import feature_frame, target_values
from sluice.training.search import TrainingResult

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "layers" / "sluice" / "python" / "sluice" / "demo" / "data"
REAL = REPO / "tests" / "data" / "real"
REAL_CASES = [("aer-hmda.csv", "deny"), ("islp-carseats.csv", "Sales"), ("cardata-titanicsurvival.csv", "survived"),
              ("aer-cps1985.csv", "wage"), ("islp-college.csv", "Private")]


class RowByRow:
    """A served model offering only the endpoint's ``predict(instances)``: the scorer reads every row one at a time
    (the reference the columnar path must equal)."""

    def __init__(self, model: ServedModel) -> None:
        self._model = model

    @property
    def signature(self) -> Any:
        return self._model.signature

    def with_signature(self, signature: Any) -> RowByRow:
        return RowByRow(self._model.with_signature(signature))  # type: ignore[attr-defined]

    def predict(self, instances: list[dict[str, Any]]) -> Any:
        return self._model.predict(instances)

    def explainer(self) -> None:
        return None


class Counting(RowByRow):
    """A served model with the columnar scorer's ``run`` too, counting the rows sent the endpoint's way."""

    row_by_row = 0

    def with_signature(self, signature: Any) -> Counting:
        return Counting(self._model.with_signature(signature))  # type: ignore[attr-defined]

    def run(self, tensors: dict[str, np.ndarray]) -> Any:
        return self._model.run(tensors)  # type: ignore[attr-defined]

    def predict(self, instances: list[dict[str, Any]]) -> Any:
        Counting.row_by_row += len(instances)
        return self._model.predict(instances)


def trained(text: bytes, file: str, model: ModelConfig, family: str) -> tuple[OnnxModel, SklearnModel]:
    """``family`` fitted on the accepted rows of ``text``, served from its ONNX export and as the fallback."""
    sink = io.BytesIO()
    assert check_file(io.BytesIO(text), file, model.contract, sink=sink).accepted
    frame = from_parquet_bytes(sink.getvalue()).to_pandas()
    pipeline = build_pipeline(family, model).fit(feature_frame(frame, model), target_values(frame, model))
    classes = tuple(str(c) for c in pipeline.classes_) if hasattr(pipeline, "classes_") else None
    result = TrainingResult(pipeline=pipeline, family=family, params={}, cv={}, cv_metric="",
                            feature_names=model.contract.feature_names, classes=classes, training_rows=len(frame),
                            duration_s=0.0, explainer=None)
    exported = export_onnx(result, model, frame.head(200))
    return OnnxModel.from_bytes(exported.onnx_bytes, exported.signature), SklearnModel(pipeline, exported.signature)


def scored(model: Any, data: bytes, key: str) -> tuple[pa.Table, ScoreCounts]:
    scorer = BatchScorer(model, version=4)
    tables = list(scorer.score(open_batches(io.BytesIO(data), key)))
    return pa.concat_tables(tables), scorer.counts


def assert_no_skew(model: ServedModel, data: bytes, key: str) -> pa.Table:
    """Score ``data`` both ways; the tables and the counts are the same. Returns the columnar table."""
    columnar, counts = scored(model, data, key)
    reference, reference_counts = scored(RowByRow(model), data, key)
    assert columnar.schema == reference.schema
    for name in columnar.column_names:
        assert values(columnar, name) == values(reference, name), f"{key}: column {name}"
    assert counts == reference_counts
    return columnar


def values(table: pa.Table, name: str) -> list[Any]:
    """A column's values, NaN spelled out (so that NaN equals NaN)."""
    return ["NaN" if isinstance(value, float) and value != value else value for value in table.column(name).to_pylist()]


def drafted(file: str, target: str) -> tuple[bytes, ModelConfig]:
    text = (REAL / file).read_bytes()
    draft = infer_contract(io.BytesIO(text), file, target=target)
    return text, load_config_text(contract_toml("real", draft), source="draft").model("real")


@pytest.mark.parametrize(("file", "target"), REAL_CASES, ids=[case[0] for case in REAL_CASES])
def test_a_real_export_scores_the_same_columnar_and_row_by_row(file, target):
    # GIVEN a real export as its source ships it (NA tokens, Yes/No, row names) and a model trained on it
    text, model = drafted(file, target)
    onnx_model, fallback = trained(text, file, model, model.training.families[-1])
    # WHEN the file is scored by the columnar scorer and row by row THEN every row is the same, both models
    assert_no_skew(onnx_model, text, file)
    assert_no_skew(fallback, text, file)


@pytest.mark.parametrize(("name", "file"), [("breast-cancer", "breast_cancer.csv"), ("diabetes", "diabetes.csv")])
def test_a_demo_file_scores_the_same_columnar_and_row_by_row(name, file):
    # GIVEN a demo file and its model (classification, regression) trained on it
    model = load_config(REPO / "sluice.toml").model(name)
    text = (DEMO / file).read_bytes()
    onnx_model, _ = trained(text, file, model, model.training.families[0])
    # WHEN scored both ways THEN the same, and every row was clean
    table = assert_no_skew(onnx_model, text, file)
    assert set(table.column("contract").to_pylist()) == {"ok"}
    # AND the columnar scorer read every row itself, none the endpoint's way
    Counting.row_by_row = 0
    scored(Counting(onnx_model), text, file)
    assert Counting.row_by_row == 0


RULES_TOML = """
[models.shop]
task = "classification"
[models.shop.contract]
target = "label"
target_type = "string"
null_tokens = ["?"]
min_rows = 10
[[models.shop.contract.columns]]
name = "x"
type = "float"
min = -10
max = 10
[[models.shop.contract.columns]]
name = "n"
type = "int"
nullable = true
min = 0
max = 100
[[models.shop.contract.columns]]
name = "colour"
type = "string"
allowed = ["red", "green", "blue"]
[[models.shop.contract.columns]]
name = "code"
type = "string"
nullable = true
trim = true
max_length = 4
[[models.shop.contract.columns]]
name = "flag"
type = "bool"
[[models.shop.contract.columns]]
name = "rid"
type = "string"
unique = true
[models.shop.training]
families = ["logistic_regression", "hist_gradient_boosting"]
"""
BAD_VALUES = {  # one row per way a value can break its column's rules, or be read differently
    "x": ["abc", "", "NA", "?", "inf", "-inf", "nan", "11", "-10.5", "1e39", "0x1F", " 2.5 ", "+3", "1e400"],
    "n": ["2.5", "-1", "101", "1e3", "5.0", "NA", "", "?", "9" * 20, " 7", "x"],
    "colour": ["purple", "", "Red", " red", "NA", "?"],
    "code": ["toolong", "  ab  ", "", "NA", "?", "abcd "],
    "flag": ["maybe", "", "YES", " n ", "2", "TRUE", "?"],
}


def shop_rows(count: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "x": rng.uniform(-10, 10, count).round(3).astype(str), "n": rng.integers(0, 101, count).astype(str),
        "colour": rng.choice(["red", "green", "blue"], count), "code": rng.choice(["ab", "cd", "efgh", ""], count),
        "flag": rng.choice(["true", "false", "yes", "0"], count), "rid": [f"r{seed}-{i}" for i in range(count)]})
    frame["label"] = np.where(frame.x.astype(float) + (frame.colour == "red") * 3 > 0, "buy", "skip")
    return frame


def with_bad_rows(frame: pd.DataFrame) -> pd.DataFrame:
    rows = frame.to_dict(orient="records")
    at = 0
    for column, values in BAD_VALUES.items():
        for value in values:
            at = (at + 7) % len(rows)
            rows[at] = {**rows[at], column: value}
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def shop() -> tuple[ModelConfig, dict[str, tuple[OnnxModel, SklearnModel]]]:
    model = load_config_text(RULES_TOML, source="test").model("shop")
    text = shop_rows(400, seed=1).to_csv(index=False).encode()
    return model, {family: trained(text, "train.csv", model, family) for family in model.training.families}


def test_a_file_with_bad_rows_of_every_kind_scores_the_same_columnar_and_row_by_row(shop):
    # GIVEN a CSV with rows breaking every rule (type, null, range, non-finite, allowed, max_length) among clean ones
    _model, served = shop
    frame = with_bad_rows(shop_rows(300, seed=2))
    data = frame.to_csv(index=False).encode()
    for onnx_model, fallback in served.values():
        # WHEN scored both ways THEN every row, verdict and count is the same
        table = assert_no_skew(onnx_model, data, "bad.csv")
        assert_no_skew(fallback, data, "bad.csv")
        verdicts = table.column("contract").to_pylist()
        # AND the file really holds every kind of verdict: bad rows flagged by rule, the rest ok
        rules = {verdict.split(" breaks ", 1)[1] for verdict in verdicts if verdict.startswith("flagged")}
        assert {"type", "null", "out_of_range", "non_finite", "not_allowed", "max_length"} <= rules
        assert verdicts.count("ok") > 200
        # AND only the rows that are not ok went the endpoint's way
        Counting.row_by_row = 0
        scored(Counting(onnx_model), data, "bad.csv")
        assert Counting.row_by_row == len(verdicts) - verdicts.count("ok")


def test_typed_parquet_with_bad_rows_scores_the_same_columnar_and_row_by_row(shop):
    # GIVEN the bad rows as typed Parquet: floats with NaN and infinities, nullable ints, bools, dictionary text
    _, served = shop
    frame = shop_rows(300, seed=3)
    table = pa.table({
        "x": pa.array([*[float(v) for v in frame.x][:-4], float("nan"), float("inf"), 1e+39, 12.0]),
        "n": pa.array([*[int(v) for v in frame.n][:-3], None, -5, 2 ** 62], pa.int64()),
        "colour": pa.array([*list(frame.colour)[:-2], "purple", None]).dictionary_encode(),
        "code": pa.array([*list(frame.code)[:-2], None, "  toolong "]),
        "flag": pa.array([*[v in ("true", "yes") for v in frame.flag][:-1], None]),
        "rid": pa.array(list(frame.rid)),
    })
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=128)
    for onnx_model, fallback in served.values():
        # WHEN scored both ways THEN the same
        assert_no_skew(onnx_model, sink.getvalue(), "typed.parquet")
        assert_no_skew(fallback, sink.getvalue(), "typed.parquet")


def test_a_file_missing_an_input_column_is_refused_row_by_row_as_before(shop):
    # GIVEN a file without the column "flag" the model needs
    _, served = shop
    data = shop_rows(20, seed=4).drop(columns=["flag"]).to_csv(index=False).encode()
    # WHEN scored THEN the same as row by row: every row refused, naming the missing feature
    table = assert_no_skew(served["hist_gradient_boosting"][0], data, "short.csv")
    assert set(table.column("contract").to_pylist()) == {"refused: missing feature 'flag'"}


def test_a_row_scores_the_same_whatever_rows_it_is_batched_with(shop):
    # GIVEN the file with bad rows, read as one batch and as batches of one, two and three rows
    _, served = shop
    whole = pa.RecordBatch.from_pandas(with_bad_rows(shop_rows(60, seed=5)), preserve_index=False)
    for onnx_model, _ in served.values():
        expected = pa.concat_tables(BatchScorer(onnx_model, version=4).score([whole]))
        for size in (1, 2, 3):
            # WHEN scored in those batches (as parts of a file are, and as a row the endpoint's way reads alone)
            pieces = [whole.slice(start, size) for start in range(0, whole.num_rows, size)]
            table = pa.concat_tables(BatchScorer(onnx_model, version=4).score(pieces))
            # THEN every row comes out the same, to the last bit of its probabilities
            for name in table.column_names:
                assert values(table, name) == values(expected, name), f"batches of {size}: column {name}"


SPELLINGS = st.text(alphabet="0123456789+-.eEinfaINFAtrueFALSYyNno/ ?\t", max_size=6) | st.sampled_from(
    ["red", " red", "blue", "green ", "NA", "n/a", "?", "", "inf", "nan", "1e400", "0x1F", "\u0663", "1.", ".5",
     "-0", "+0.0", "TRUE", "yes", "Y", "0", "1", "2", "abcd ", "toolong", "5.0", "1e39"])


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_rows_spelled_any_way_score_the_same_columnar_and_row_by_row(shop, data):
    # GIVEN clean rows with some values re-spelled any way at all (accepted spellings and broken ones alike)
    _, served = shop
    frame = shop_rows(40, seed=6)
    for column in ("x", "n", "colour", "code", "flag"):
        for row in data.draw(st.lists(st.integers(0, 39), max_size=8), label=column):
            frame.loc[row, column] = data.draw(SPELLINGS, label=f"{column}[{row}]")
    text = frame.to_csv(index=False).encode()
    # WHEN scored both ways THEN the same rows, verdicts and counts, with either model
    for onnx_model, _ in served.values():
        assert_no_skew(onnx_model, text, "spelled.csv")
