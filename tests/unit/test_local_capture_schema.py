"""The local stack converts captures with the Glue table's schema, as Firehose does on AWS (AWS Firehose Developer
Guide, "Converting input record format": the table's columns and types; a record that does not fit goes to the
error output, ``format-conversion-failed``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
from moto import mock_aws

from sluice.config import load_config
from sluice.local.captures import deliver_staged, staging_prefix
from sluice.local.glue_schema import arrow_type
from sluice.storage import ObjectStore
from sluice.wiring.capture import capture_columns

DAY_MS = 1_780_000_000_000  # 2026-05-28


def test_glue_types_read_as_arrow_types() -> None:
    assert arrow_type("bigint") == pa.int64()
    assert arrow_type("struct<a:double,b:struct<c:int,d:string>>") == pa.struct([
        pa.field("a", pa.float64()), pa.field("b", pa.struct([pa.field("c", pa.int32()), pa.field("d", pa.string())]))])


def test_staged_records_become_parquet_with_the_tables_schema_and_misfits_go_to_the_error_prefix(
        repo_root: Path) -> None:
    model = load_config(repo_root / "sluice.toml").model("diabetes")
    good = {"request_id": "r1", "instance": 0, "model_version": "1", "captured_at": DAY_MS, "prediction": 151.0,
            "probabilities": None, "features": {"age": 50.0, "sex": "male"}, "violations": None,
            "not_in_the_table": 1}
    misfit = {**good, "request_id": "r2", "prediction": "not a number"}
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="data")
        store = ObjectStore(s3, "data")
        # GIVEN one record that fits the table and one whose prediction is not a double, staged by the stream
        store.put_bytes(f"{staging_prefix(model.name)}batch-1", (json.dumps(good) + "\n" + json.dumps(misfit)).encode())
        # WHEN the local stack delivers them
        delivered = deliver_staged(store, model)
        # THEN the fitting record is Parquet with exactly the Glue columns (absent features null, extra keys gone)
        assert delivered == 1
        (key,) = store.list_keys("captures/diabetes/date=2026-05-28/")
        table = pq.read_table(io.BytesIO(store.get_bytes(key)))
        assert [(field.name, str(field.type)) for field in table.schema][:4] == [
            ("request_id", "string"), ("instance", "int32"), ("model_version", "string"), ("captured_at", "int64")]
        assert table.column_names == [name for name, _ in capture_columns(model)]
        row = table.to_pylist()[0]
        assert row["prediction"] == 151.0 and row["features"]["age"] == 50.0 and row["features"]["bmi"] is None
        # AND the misfit is kept under the error prefix Firehose uses, and the staging area is empty
        (error_key,) = store.list_keys("capture-errors/diabetes/format-conversion-failed/date=2026-05-28/")
        assert json.loads(store.get_bytes(error_key))["request_id"] == "r2"
        assert store.list_keys(staging_prefix(model.name)) == []
