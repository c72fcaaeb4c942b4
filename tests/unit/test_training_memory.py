"""The memory-lean training core (read from the file, frames dropped early, baseline predicted in chunks) trains
exactly what the plain path trains: same rows, same split, same folds, same fitted model, same predictions."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sluice.config import ModelConfig
from sluice.data import DatasetReadError
from sluice.monitoring.baseline import BASELINE_FILE
from sluice.steps.baseline import write_baseline, write_feature_baseline
from sluice.steps.trained import train_into
from sluice.steps.training_data import load_split
from sluice.storage import DirectoryStore, model_artifact_key
from sluice.training import category_text, export_onnx, feature_frame, split_holdout, train_best
from sluice.training.search import training_set
from tests.unit.test_training import shop_config, shop_frame

KEY = "accepted/shop/v1/data.parquet"


class MemoryStore:
    """Keeps the objects in a dict: the S3-like store (bytes only) train_model reads from."""

    def __init__(self, objects: dict[str, bytes] | None = None) -> None:
        self.objects = dict(objects or {})

    def get_bytes(self, key: str) -> bytes:
        return self.objects[key]

    def put_bytes(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.objects[key] = body

    def put_json(self, key: str, document: Any) -> None:
        self.put_bytes(key, json.dumps(document, indent=2, sort_keys=True, default=str).encode())


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue()


def reference_training(data: bytes, model: ModelConfig) -> dict[str, Any]:
    """The training as it was before the memory work: the whole file as bytes, one frame, ``train_best`` on the
    training frame, the baseline profiled from it in one predict."""
    frame = pq.read_table(pa.BufferReader(data)).to_pandas()
    train, holdout = split_holdout(frame, model)
    result = train_best(train, model)
    store = MemoryStore()
    write_baseline(store, model, 1, train, result.pipeline)
    exported = export_onnx(result, model, holdout)
    return {"train": train, "holdout": holdout, "result": result, "onnx": exported.onnx_bytes,
            "baseline": json.loads(store.objects[model_artifact_key(model.name, 1, BASELINE_FILE)])}


@pytest.fixture(scope="module", params=[("logistic_regression",), ("random_forest", "hist_gradient_boosting")],
                ids=["linear", "trees"])
def model(request) -> ModelConfig:
    return shop_config(request.param)


@pytest.fixture(scope="module")
def data() -> bytes:
    return parquet_bytes(shop_frame(rows=400, seed=3))


def test_the_split_read_from_a_file_is_the_split_read_from_bytes(tmp_path: Path, data: bytes, model: ModelConfig):
    # GIVEN the same accepted file in a folder (the training job's channel) and in a bytes-only store (S3)
    (tmp_path / "data.parquet").write_bytes(data)
    folder = DirectoryStore({"accepted/shop/v1/": tmp_path})
    # WHEN both are loaded and split
    from_file = load_split(folder, [KEY], model)
    from_bytes = load_split(MemoryStore({KEY: data}), [KEY], model)
    # THEN they equal the plain read's split: same rows, same order, same index, same values and types
    reference = reference_training(data, model)
    for train, holdout in (from_file, from_bytes):
        pd.testing.assert_frame_equal(train, reference["train"])
        pd.testing.assert_frame_equal(holdout, reference["holdout"])


def test_train_into_trains_what_the_plain_path_trains(tmp_path: Path, data: bytes, model: ModelConfig):
    # GIVEN the accepted file in the training job's input folder
    (tmp_path / "data.parquet").write_bytes(data)
    artifacts = MemoryStore()
    # WHEN the job's core trains it
    summary = train_into(DirectoryStore({"accepted/shop/v1/": tmp_path}), artifacts, model, 1, data_keys=[KEY],
                         facts={})
    # THEN every fold score, the fitted pipeline (byte for byte), the ONNX artifact and the baseline are the
    # plain path's
    reference = reference_training(data, model)
    result = reference["result"]
    assert summary["cv"] == result.cv
    assert [trial["fold_scores"] for trial in summary["trials"]] == [trial["fold_scores"] for trial in result.trials]
    assert summary["family"] == result.family and summary["params"] == result.params
    assert (summary["train_rows"], summary["holdout_rows"]) == (len(reference["train"]), len(reference["holdout"]))
    pipeline = pickle.loads(artifacts.objects[model_artifact_key("shop", 1, "pipeline.pkl")])
    assert summary["pipeline_sha256"] == hashlib.sha256(pickle.dumps(result.pipeline, protocol=5)).hexdigest()
    holdout = reference["holdout"]
    np.testing.assert_array_equal(pipeline.predict_proba(training_set(holdout, model).features),
                                  result.pipeline.predict_proba(training_set(holdout, model).features))
    assert artifacts.objects[model_artifact_key("shop", 1, "model.onnx")] == reference["onnx"]
    assert json.loads(artifacts.objects[model_artifact_key("shop", 1, BASELINE_FILE)]) == reference["baseline"]


def test_the_baseline_predicted_in_chunks_is_the_baseline_predicted_at_once(data: bytes, model: ModelConfig):
    # GIVEN a trained pipeline and its training features
    train, _ = split_holdout(pq.read_table(pa.BufferReader(data)).to_pandas(), model)
    shaped = training_set(train, model)
    pipeline = train_best(train, model).pipeline
    whole, chunked = MemoryStore(), MemoryStore()
    # WHEN the baseline is written in one predict and 7 rows at a time (the last chunk shorter)
    write_feature_baseline(whole, model, 1, shaped.features, pipeline, predict_rows=len(train))
    write_feature_baseline(chunked, model, 1, shaped.features, pipeline, predict_rows=7)
    # THEN the two baselines are the same document, every training row profiled
    key = model_artifact_key("shop", 1, BASELINE_FILE)
    assert chunked.objects[key] == whole.objects[key]
    assert json.loads(chunked.objects[key])["rows"] == len(train)


def test_a_file_that_is_not_parquet_is_refused_clearly_from_a_folder(tmp_path: Path, data: bytes):
    # GIVEN an empty file and a truncated one in the job's folder
    (tmp_path / "empty.parquet").write_bytes(b"")
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    folder = DirectoryStore({"accepted/shop/v1/": tmp_path})
    model = shop_config()
    # WHEN they are loaded THEN the answer says what is wrong, as for bytes
    with pytest.raises(DatasetReadError, match="the file is empty"):
        load_split(folder, ["accepted/shop/v1/empty.parquet"], model)
    with pytest.raises(DatasetReadError, match="not a readable Parquet file"):
        load_split(folder, ["accepted/shop/v1/cut.parquet"], model)


def test_a_window_of_versions_splits_each_version_as_before(tmp_path: Path, model: ModelConfig):
    # GIVEN two accepted versions in the job's folder
    first, second = shop_frame(rows=200, seed=4), shop_frame(rows=160, seed=5)
    (tmp_path / "a.parquet").write_bytes(parquet_bytes(first))
    (tmp_path / "b.parquet").write_bytes(parquet_bytes(second))
    keys = ["accepted/shop/a.parquet", "accepted/shop/b.parquet"]
    # WHEN the window is loaded and split
    train, holdout = load_split(DirectoryStore({"accepted/shop/": tmp_path}), keys, model)
    # THEN each version is split on its own, as the plain read of each splits it, parts concatenated in order
    plain = [pq.read_table(tmp_path / name).to_pandas() for name in ("a.parquet", "b.parquet")]
    parts = [split_holdout(frame, model, strict=False) for frame in plain]
    expected_train = pd.concat([part[0] for part in parts], ignore_index=True)
    expected_holdout = pd.concat([part[1] for part in parts], ignore_index=True)
    pd.testing.assert_frame_equal(train, expected_train)
    pd.testing.assert_frame_equal(holdout, expected_holdout)


@pytest.mark.parametrize("series", [
    pd.Series(["web", None, "store", "web"], dtype="str"),
    pd.Series([True, None, False, True], dtype="boolean"),
    pd.Series([1.0, np.nan, 2.5, 1.0]),
    pd.Series([3, 1, 3, 2], dtype="int64"),
    pd.Series(["a", "b", None, "a"], dtype="category"),
    pd.Series([1, 1.0, True, "x", None], dtype=object),
], ids=["str", "boolean", "float", "int", "category", "object"])
def test_categorical_text_is_spelled_as_value_by_value_and_shared(series: pd.Series):
    # GIVEN a categorical column of any type, with a missing value
    model = shop_config()
    frame = pd.DataFrame({"basket": 1.0, "channel": series, "member": True, "bought": "yes"})
    # WHEN it is shaped for training
    shaped = feature_frame(frame, model)["channel"]
    # THEN each value is spelled as category_text spells it alone ("" for missing), and the column is text
    assert shaped.tolist() == [category_text(value) for value in series.tolist()]
    assert shaped.dtype == object
    # AND in a typed column equal texts are one object (memory per distinct value, not per row)
    if series.dtype != object:
        assert len({id(value) for value in shaped.tolist()}) == len(set(shaped.tolist()))
