"""The rules behind `sluice contract infer`, one at a time, on small hand-made samples."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sluice.cli.app import app
from sluice.config import ModelConfig, load_config_text
from sluice.data import check_file
from sluice.data.infer import InferError, TargetError, infer_contract
from sluice.data.infer_leaks import spearman
from sluice.data.infer_toml import contract_toml

runner = CliRunner()


def csv_text(header: str, rows: list[str]) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def drafted(data: bytes, target: str | None = None) -> ModelConfig:
    draft = infer_contract(io.BytesIO(data), "sample.csv", target=target)
    return load_config_text(contract_toml("drafted", draft)).model("drafted")


@pytest.mark.parametrize(("spellings", "positive"), [
    (("yes", "no"), "yes"), (("TRUE", "FALSE"), "TRUE"), (("1", "0"), "1"), (("Up", "Down"), "Up"),
    (("Y", "N"), "Y"),
])
def test_two_valued_targets_are_classes_as_spelled_with_the_affirmative_positive(
        spellings: tuple[str, str], positive: str) -> None:
    # GIVEN a binary target spelled the affirmative way in 1 of 3 rows
    rows = [f"{(i * 7) % 11},{spellings[0] if i % 3 == 0 else spellings[1]}" for i in range(60)]
    # WHEN drafted / THEN classification, the values as spelled, the affirmative one positive
    model = drafted(csv_text("x,label", rows))
    assert model.task == "classification" and model.contract.target_type == "string"
    assert set(model.contract.target_values or ()) == set(spellings) and model.contract.positive == positive


def test_without_an_affirmative_spelling_the_minority_class_is_positive_with_the_reason() -> None:
    rows = [f"{i % 6},{'MM' if i % 4 == 0 else 'CH'}" for i in range(60)]
    draft = infer_contract(io.BytesIO(csv_text("x,brand", rows)), "s.csv")
    assert draft.contract.positive == "MM"
    assert draft.target is not None and "minority" in (draft.target.positive_reason or "")
    assert "positive = \"MM\"  # 'MM' is the minority class" in contract_toml("m-x", draft)


def test_few_text_values_are_a_multiclass_target_and_many_numbers_a_regression() -> None:
    multiclass = drafted(csv_text("x,colour", [f"{i % 4},{['red', 'green', 'blue'][i % 3]}" for i in range(60)]))
    assert multiclass.task == "classification" and multiclass.contract.positive is None
    assert set(multiclass.contract.target_values or ()) == {"red", "green", "blue"}
    regression = drafted(csv_text("x,price", [f"{i % 7},{i * 1.5}" for i in range(60)]))
    assert regression.task == "regression" and regression.contract.target_values is None


def test_a_target_with_one_value_or_too_many_words_is_refused() -> None:
    with pytest.raises(TargetError, match="nothing to learn"):
        infer_contract(io.BytesIO(csv_text("x,y", [f"{i},same" for i in range(60)])), "s.csv")
    with pytest.raises(TargetError, match="too many"):
        infer_contract(io.BytesIO(csv_text("x,y", [f"{i},word{i}" for i in range(60)])), "s.csv")


def test_row_numbers_an_unnamed_first_column_and_unique_names_are_ids() -> None:
    rows = [f'"{i}",{i + 1},"Person {i}, Jr.",{i % 5},{"a" if i % 2 else "b"}' for i in range(60)]
    model = drafted(csv_text('"","row","name","x","y"', rows), target="y")
    roles = {column.name: (column.role, column.unique) for column in model.contract.columns}
    assert roles == {"": ("id", True), "row": ("id", True), "name": ("id", False), "x": ("feature", False)}


def test_free_text_with_repeats_is_an_id_not_a_category() -> None:
    rows = [f"car {i // 2 if i < 40 else i},{i % 9},{i}" for i in range(60)]
    model = drafted(csv_text("name,x,y", rows), target="y")
    assert model.contract.column("name").role == "id" and model.contract.column("name").allowed is None


def test_a_monotone_transform_of_the_target_is_a_suspected_leak() -> None:
    rows = [f"{math.log(10 + i * 3.7):.6f},{(i * 7) % 11},{10 + i * 3.7:.3f}" for i in range(80)]
    draft = infer_contract(io.BytesIO(csv_text("logy,x,y", rows)), "s.csv")
    assert draft.contract.column("logy").role == "ignore" and draft.contract.column("x").role == "feature"
    assert draft.notes["logy"].startswith("suspected leak: a monotone increasing function of the target")
    assert "# suspected leak" in contract_toml("m-x", draft)


def test_a_column_that_separates_the_classes_perfectly_is_a_suspected_leak() -> None:
    rows = [f"{(i % 13) - 6.5:.1f},{(i * 5) % 7},{'Up' if (i % 13) - 6.5 > 0 else 'Down'}" for i in range(80)]
    model = drafted(csv_text("today,lag,direction", rows))
    assert model.contract.column("today").role == "ignore" and model.contract.column("lag").role == "feature"


def test_a_category_that_names_the_class_is_a_suspected_leak() -> None:
    rows = [f"{'A' if i % 2 else 'B'},{i % 9},{'yes' if i % 2 else 'no'}" for i in range(60)]
    assert drafted(csv_text("code,x,label", rows)).contract.column("code").role == "ignore"


def test_spearman_is_one_for_any_increasing_transform_and_handles_ties() -> None:
    import numpy as np

    x = np.array([1.0, 2.0, 2.0, 3.0, 10.0])
    assert spearman(x, np.log(x)) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)
    assert spearman(x, np.ones(5)) == 0.0


def test_ranges_are_widened_ints_stay_ints_and_non_negative_data_keeps_zero() -> None:
    rows = [f"{10 + (i * 7) % 40},{(i * 13 % 60) * 0.5:.1f},{(i % 20) - 10},{2.0 ** (i % 12):.0f}.5,{i % 2}"
            for i in range(60)]
    model = drafted(csv_text("count,share,signed,skewed,y", rows))
    count, share, signed, skewed = (model.contract.column(n) for n in ("count", "share", "signed", "skewed"))
    assert count.type == "int" and count.min == 0 and count.max is not None and count.max > 49
    assert float(count.max).is_integer()
    assert share.type == "float" and share.min == 0 and share.max is not None and share.max > 29.5
    assert signed.min is not None and signed.min < -10 and signed.max is not None and signed.max > 9
    assert skewed.max is not None and skewed.max > 2 * 2048.5          # a long tail gets room in proportion
    text = contract_toml("m-x", infer_contract(io.BytesIO(csv_text("count,share,signed,skewed,y", rows)), "s.csv"))
    assert "min = 0\n" in text                                          # an int bound is written as an int


def test_decimal_spellings_are_floats_and_constants_get_no_range() -> None:
    rows = [f"{300 + i}.0,7,{i % 2}" for i in range(60)]
    model = drafted(csv_text("displacement,cylinders,y", rows))
    assert model.contract.column("displacement").type == "float"
    assert model.contract.column("cylinders").min is None and model.contract.column("cylinders").max is None


def test_word_flags_and_balanced_0_1_columns_are_bools_sparse_0_1_columns_are_ints() -> None:
    rows = [f"{'Yes' if i % 3 else 'No'},{i % 2},{1 if i == 7 else 0},{i % 5}" for i in range(60)]
    model = drafted(csv_text("student,flag,rare,y", rows))
    assert model.contract.column("student").type == "bool" and model.contract.column("flag").type == "bool"
    assert model.contract.column("rare").type == "int"


def test_null_spellings_become_null_tokens_and_nullable_columns() -> None:
    rows = [f"{'NA' if i % 10 == 0 else i},{'N/A' if i % 7 == 0 else 'x' + str(i % 3)},{i % 2}" for i in range(60)]
    model = drafted(csv_text("age,plan,y", rows))
    assert model.contract.null_tokens == ("N/A", "NA")
    assert model.contract.column("age").nullable and model.contract.column("plan").nullable
    assert model.contract.column("plan").allowed == ("x0", "x1", "x2")


def test_categories_seen_once_are_left_open() -> None:
    rows = [f"{['a', 'b'][i % 2] if i else 'rare'},{i % 3}" for i in range(60)]
    draft = infer_contract(io.BytesIO(csv_text("kind,y", rows)), "s.csv")
    assert draft.contract.column("kind").allowed is None and "seen only once" in draft.notes["kind"]


def test_the_draft_turns_on_every_family_and_tuning() -> None:
    model = drafted(csv_text("x,y", [f"{i % 7},{'a' if i % 2 else 'b'}" for i in range(60)]))
    assert model.training.families == ("logistic_regression", "random_forest", "hist_gradient_boosting")
    assert model.training.tuning.enabled and model.gates.primary_metric == "roc_auc"


def test_the_cli_writes_a_new_file_and_refuses_to_overwrite(tmp_path: Path) -> None:
    # GIVEN a sample file
    sample = tmp_path / "sample.csv"
    sample.write_bytes(csv_text("x,label", [f"{i % 9},{'yes' if i % 3 else 'no'}" for i in range(60)]))
    out = tmp_path / "drafted.toml"
    # WHEN drafted into a new file / THEN it loads and the sample validates against it
    result = runner.invoke(app, ["contract", "infer", str(sample), "--target", "label", "-m", "churn", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_config_text(out.read_text()).model("churn").contract.positive == "yes"
    with sample.open("rb") as handle:
        assert check_file(handle, "sample.csv", load_config_text(out.read_text()).model("churn").contract).accepted
    # WHEN drafted again into the same file / THEN exit 2 and the file is untouched
    before = out.read_text()
    again = runner.invoke(app, ["contract", "infer", str(sample), "--target", "label", "-m", "churn", "-o", str(out)])
    assert again.exit_code == 2 and "exists" in again.output and out.read_text() == before


def test_a_sample_with_nothing_but_ids_is_refused_with_the_reasons() -> None:
    with pytest.raises(InferError, match=r"no column is left to learn 'y' from .*'row': row numbers"):
        infer_contract(io.BytesIO(csv_text("row,y", [f"{i},{i % 2}" for i in range(60)])), "s.csv")


def test_the_cli_names_an_unknown_target_and_exits_2(tmp_path: Path) -> None:
    sample = tmp_path / "sample.csv"
    sample.write_bytes(csv_text("x,label", [f"{i},{i % 2}" for i in range(60)]))
    result = runner.invoke(app, ["contract", "infer", str(sample), "--target", "nope"])
    assert result.exit_code == 2 and "'nope' is not a column" in result.output


def test_a_sample_with_unlabelled_rows_is_drafted_with_a_warning() -> None:
    rows = [f"{i % 7},{'NA' if i == 5 else ('yes' if i % 3 else 'no')}" for i in range(60)]
    draft = infer_contract(io.BytesIO(csv_text("x,label", rows)), "s.csv")
    text = contract_toml("m-x", draft)
    assert "\n# warning: 1 sample rows have no 'label': a file with unlabelled rows is rejected" in text
    assert load_config_text(text).model("m-x").contract.positive == "yes"


@pytest.mark.parametrize(("name", "is_id"), [("customer_id", True), ("customerId", True), ("StoreID", True),
                                             ("order_key", True), ("paid", False), ("VALID", False)])
def test_distinct_values_are_an_id_only_under_an_identifier_name(name: str, is_id: bool) -> None:
    # GIVEN distinct integers in no order (not row numbers) under the header / WHEN drafted
    rows = [f"{(i * 37) % 1000},{i % 3},{i % 2}" for i in range(60)]
    draft = infer_contract(io.BytesIO(csv_text(f"{name},x,y", rows)), "s.csv")
    # THEN they are an id only when the header names an identifier
    assert (draft.contract.column(name).role == "id") is is_id


def test_a_parquet_sample_with_native_types_drafts_a_contract_it_passes(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # GIVEN a Parquet file with native bool, int, float and text columns (one missing float)
    table = pa.table({
        "member": pa.array([i % 3 == 0 for i in range(60)]),
        "visits": pa.array([(i * 7) % 13 for i in range(60)], pa.int64()),
        "spend": pa.array([None if i == 4 else i * 1.25 for i in range(60)], pa.float64()),
        "plan": pa.array([["basic", "pro"][i % 2] for i in range(60)]),
        "churned": pa.array(["yes" if i % 4 == 0 else "no" for i in range(60)]),
    })
    path = tmp_path / "sample.parquet"
    pq.write_table(table, path)
    # WHEN drafted / THEN the types are the native ones and the file passes its own draft
    with path.open("rb") as handle:
        draft = infer_contract(handle, "sample.parquet")
    model = load_config_text(contract_toml("m-x", draft)).model("m-x")
    assert [column.type for column in model.contract.columns] == ["bool", "int", "float", "string"]
    assert model.contract.column("spend").nullable and model.contract.positive == "yes"
    with path.open("rb") as handle:
        assert check_file(handle, "sample.parquet", model.contract).accepted


def test_the_cli_writes_the_json_document_with_reasons_to_a_file(tmp_path: Path) -> None:
    import json

    sample = tmp_path / "sample.csv"
    sample.write_bytes(csv_text("rownames,x,label", [f"{i + 1},{i % 9},{'yes' if i % 3 else 'no'}" for i in range(60)]))
    out = tmp_path / "drafted.json"
    result = runner.invoke(app, ["contract", "infer", str(sample), "-t", "label", "--json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["positive"] == "yes" and "affirmative" in document["positive_reason"]
    assert document["columns"][0]["role"] == "id" and document["columns"][0]["note"].startswith("row names")
