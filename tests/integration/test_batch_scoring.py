"""Batch scoring on the local stack: a file under score/<model>/ comes back as Parquet, every row accounted for."""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow.parquet as pq
import pytest

from sluice.demo import samples
from sluice.registry import DynamoDBRegistry
from tests.conftest import CONFIG, REPO, trials_only
from tests.integration.scoring import outputs, to_score


@pytest.fixture(scope="module")
def scored_stack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from sluice.local import LocalCloud, ScriptedMeter

    folder = tmp_path_factory.mktemp("scoring")
    config = folder / "sluice.toml"
    config.write_text(trials_only(CONFIG.read_text()))
    cloud = LocalCloud(config, functions_dir=REPO / "functions", meter=ScriptedMeter()).start()
    first, _ = samples.deliveries(samples.BREAST_CANCER, 300)
    drop = folder / "cases.csv"
    drop.write_bytes(first)
    cloud.drop(drop, "breast-cancer")
    cloud.run_until_idle()
    yield cloud, folder
    cloud.stop()


def test_a_dropped_file_is_scored_by_live_and_bad_rows_are_reported_not_lost(scored_stack):
    # GIVEN breast-cancer v1 live, and a file of 40 cases: one with an unreadable value and one beyond the
    # contract's range (the contract flags them; the model scores the unreadable one as missing)
    cloud, folder = scored_stack
    path, rows = to_score(folder, "clinic-a.csv", broken={3: "not a number", 17: "1e300"})
    # WHEN it is dropped under score/breast-cancer/
    cloud.clients.s3.upload_file(str(path), cloud.settings.data_bucket, "score/breast-cancer/clinic-a.csv")
    cloud.run_until_idle()
    # THEN predictions.parquet holds all 40 rows in order, with their input, prediction and verdict
    written = {key: body for key, body in outputs(cloud, "breast-cancer").items() if "/clinic-a-" in key}
    table_key = next(key for key in written if key.endswith("/v1/predictions.parquet"))
    table = pq.read_table(io.BytesIO(written[table_key])).to_pylist()
    assert [row["mean_radius"] for row in table] == [row["mean_radius"] for row in rows]
    assert {row["model_version"] for row in table} == {1}
    verdicts = [row["contract"] for row in table]
    assert verdicts[3] == "flagged: mean_radius breaks type" and table[3]["prediction"] is not None
    assert verdicts[17].startswith("flagged: mean_radius breaks")
    assert {verdict for index, verdict in enumerate(verdicts) if index not in (3, 17)} == {"ok"}
    assert all(row["prediction"] in ("benign", "malignant") for row in table)
    assert all(abs(row["probability_benign"] + row["probability_malignant"] - 1) < 1e-5 for row in table)
    # AND the report counts them, with the reason
    report = json.loads(written[table_key.replace("predictions.parquet", "report.json")])
    assert (report["rows"], report["scored"], report["flagged"], report["refused"]) == (40, 40, 2, 0)
    # AND the predictions are the endpoint's for the same rows
    instances = [{key: value for key, value in row.items() if key != "diagnosis"} for row in rows]
    clean = [instance for index, instance in enumerate(instances) if index not in (3, 17)]
    answered = cloud.predict("breast-cancer", clean).body["predictions"]
    assert answered == [row["prediction"] for index, row in enumerate(table) if index not in (3, 17)]
    # AND the dropped file is still there
    assert cloud.clients.s3.head_object(Bucket=cloud.settings.data_bucket, Key="score/breast-cancer/clinic-a.csv")


def test_duplicate_delivery_scores_once_and_a_named_version_is_used(scored_stack):
    cloud, folder = scored_stack
    path, _ = to_score(folder, "clinic-b.csv")
    key = "score/breast-cancer/v1/clinic-b.csv"
    cloud.clients.s3.upload_file(str(path), cloud.settings.data_bucket, key)
    cloud.run_until_idle()
    before = {k: v for k, v in outputs(cloud, "breast-cancer").items() if "/clinic-b-" in k}
    # WHEN S3's event for the same object arrives again
    etag = cloud.clients.s3.head_object(Bucket=cloud.settings.data_bucket, Key=key)["ETag"].strip('"')
    again = cloud.invoke("score_batch", s3_event(cloud, key, etag))
    # THEN nothing is scored again
    assert again["outcome"] == "already_scored", again
    assert {k: v for k, v in outputs(cloud, "breast-cancer").items() if "/clinic-b-" in k} == before
    assert any(k.endswith("/v1/predictions.parquet") for k in before)


def test_what_cannot_be_scored_gets_a_report_with_the_reason(scored_stack):
    cloud, folder = scored_stack
    path, _ = to_score(folder, "clinic-c.csv")
    live = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table).get_alias("breast-cancer", "live")
    assert live is not None
    missing = live.version + 5
    for key in (f"score/breast-cancer/v{missing}/clinic-c.csv", "score/diabetes/empty.csv"):
        body = path.read_bytes() if "clinic" in key else b""
        cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=key, Body=body)
    cloud.run_until_idle()
    reports = {key: json.loads(body) for model in ("breast-cancer", "diabetes")
               for key, body in outputs(cloud, model).items() if key.endswith("report.json")}
    versionless = [report for key, report in reports.items() if "/clinic-c-" in key]
    assert versionless and versionless[0]["outcome"] == "refused"
    assert f"no version {missing}" in versionless[0]["reason"]
    empty = [report for key, report in reports.items() if "/empty-" in key]
    assert empty and empty[0]["outcome"] == "refused"


def s3_event(cloud: Any, key: str, etag: str) -> dict[str, Any]:
    from tests.conftest import load_event

    event = load_event("score_object_created.json")
    event["detail"]["bucket"]["name"] = cloud.settings.data_bucket
    event["detail"]["object"].update({"key": key, "etag": etag})
    return event

