"""Batch scoring in parts on the local stack: a file above [serving] batch_split_above_mb is planned into parts,
scored by the scoring state machine's Distributed Map (played by the runtime) and merged into the same
predictions.parquet and report.json the single-Lambda path writes, row for row."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sluice.demo import samples
from tests.conftest import CONFIG, REPO, trials_only
from tests.integration.scoring import artifact_unreadable, outputs

MODEL = "breast-cancer"
SPLIT = 'on_violation = "flag"\nbatch_split_above_mb = 0.05\nbatch_part_mb = 0.02\nbatch_max_concurrency = 3'


@pytest.fixture(scope="module")
def parts_stack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from sluice.local import LocalCloud, ScriptedMeter

    folder = tmp_path_factory.mktemp("scoring-parts")
    config = folder / "sluice.toml"
    text = trials_only(CONFIG.read_text())
    assert text.count('on_violation = "flag"') == 1
    config.write_text(text.replace('on_violation = "flag"', SPLIT))
    cloud = LocalCloud(config, functions_dir=REPO / "functions", meter=ScriptedMeter()).start()
    first, _ = samples.deliveries(samples.BREAST_CANCER, 300)
    drop = folder / "cases.csv"
    drop.write_bytes(first)
    cloud.drop(drop, MODEL)
    cloud.run_until_idle()
    yield cloud, folder
    cloud.stop()


def large_rows(count: int, *, broken: dict[int, str] | None = None, notes: bool = False) -> list[dict[str, str]]:
    """``count`` rows of the demo data (repeated), some mean_radius broken, optionally a quoted multi-line note."""
    source = samples.read_rows(samples.BREAST_CANCER)
    rows = [dict(source[index % len(source)]) for index in range(count)]
    for index, value in (broken or {}).items():
        rows[index]["mean_radius"] = value
    if notes:
        for index, row in enumerate(rows):
            row["note"] = f'seen twice,\n"urgent" {index}\nend' if index % 3 else ""
    return rows


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def score_both(cloud: Any, name: str, body: bytes) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """Score ``body`` through the stack (dropped: in parts) and in one worker (the single-Lambda path, on a copy):
    the parts' rows, their report, and the single worker's rows."""
    from sluice.steps.context import StepContext
    from sluice.steps.score import score_file

    bucket = cloud.settings.data_bucket
    cloud.clients.s3.put_object(Bucket=bucket, Key=f"score/{MODEL}/{name}", Body=body)
    cloud.run_until_idle()
    single_key = f"score/{MODEL}/single-{name}"
    cloud.clients.s3.put_object(Bucket=bucket, Key=single_key, Body=body)
    etag = cloud.clients.s3.head_object(Bucket=bucket, Key=single_key)["ETag"].strip('"')
    single = score_file(StepContext.from_env(), single_key, etag=etag, parts=None)
    assert single["outcome"] == "scored", single
    written = outputs(cloud, MODEL)
    stem = name.rsplit(".", 1)[0]
    report_key = next(key for key in written if f"/{stem}-" in key and key.endswith("/v1/report.json"))
    in_parts = pq.read_table(pa.BufferReader(written[report_key.replace("report.json", "predictions.parquet")]))
    one = pq.read_table(pa.BufferReader(written[single["predictions_key"]]))
    return in_parts.to_pylist(), json.loads(written[report_key]), one.to_pylist()


def test_a_large_file_is_scored_in_parts_and_merged_row_for_row_as_one_worker_would(parts_stack):
    # GIVEN breast-cancer v1 live, files above 0.05 MB split into parts of 0.02 MB (3 at a time), and a file of
    # 700 rows (about 0.16 MB): one value unreadable in the first part, one beyond the contract's range later
    cloud, _ = parts_stack
    rows = large_rows(700, broken={3: "not a number", 650: "1e300"})
    # WHEN it is dropped under score/breast-cancer/
    table, report, single = score_both(cloud, "clinic-large.csv", csv_bytes(rows))
    # THEN the scoring state machine ran once, over several parts
    executions = [entry for entry in cloud.timeline if entry.kind == "execution"]
    assert len(executions) == 1 and "error" not in executions[0].detail, executions
    assert len(report["parts"]) >= 5
    # AND the merged predictions equal the single worker's, row for row, in input order
    assert table == single
    assert [row["mean_radius"] for row in table] == [row["mean_radius"] for row in rows]
    # AND nothing is lost: every row is reported, the broken ones flagged with their reason
    assert (report["rows"], report["scored"], report["flagged"], report["refused"]) == (700, 700, 2, 0)
    assert sum(part["rows"] for part in report["parts"]) == 700
    assert table[3]["contract"] == "flagged: mean_radius breaks type"
    assert table[650]["contract"].startswith("flagged: mean_radius breaks")


def test_quoted_newlines_never_cut_a_record(parts_stack):
    # GIVEN a CSV whose note column holds quoted newlines, commas and quotes in two rows of three
    cloud, _ = parts_stack
    rows = large_rows(600, notes=True)
    body = csv_bytes(rows)
    assert body.count(b"\n") == 1 + 600 + 2 * 400
    # WHEN it is scored in parts
    table, report, single = score_both(cloud, "clinic-notes.csv", body)
    # THEN every record comes out whole, as the single worker reads it
    assert len(report["parts"]) >= 5
    assert table == single
    assert [row["note"] or "" for row in table] == [row["note"] for row in rows]


def test_a_parquet_file_is_split_by_row_groups(parts_stack, tmp_path: Path):
    # GIVEN a Parquet file of 2,000 rows in row groups of 100
    cloud, _ = parts_stack
    rows = large_rows(2000)
    for row in rows:
        row.pop("diagnosis")
    columns = {name: [float(row[name]) for row in rows] for name in rows[0]}
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns), sink, row_group_size=100, compression="none")
    # WHEN it is scored in parts
    table, report, single = score_both(cloud, "clinic-parquet.parquet", sink.getvalue().to_pybytes())
    # THEN row groups were grouped into parts and the result is the single worker's
    assert len(report["parts"]) >= 2
    assert table == single and len(table) == 2000


def test_duplicates_retried_parts_and_a_rerun_merge_write_the_result_once(parts_stack):
    from tests.integration.test_batch_scoring import s3_event

    # GIVEN a file scored in parts
    cloud, _ = parts_stack
    key = f"score/{MODEL}/clinic-dup.csv"
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=key, Body=csv_bytes(large_rows(400)))
    cloud.run_until_idle()
    before = {name: body for name, body in outputs(cloud, MODEL).items() if "/clinic-dup-" in name}
    assert any(name.endswith("/v1/report.json") for name in before)
    document = execution_input(cloud, key)
    # WHEN S3's event arrives again, a part runs again (a retry) and the merge runs again
    etag = cloud.clients.s3.head_object(Bucket=cloud.settings.data_bucket, Key=key)["ETag"].strip('"')
    again = cloud.invoke("score_batch", s3_event(cloud, key, etag))
    part = cloud.invoke("score_part", {"action": "score", "job": document["job"], "part": document["parts"][1]})
    merged = cloud.invoke("score_part", {"action": "merge", "job": document["job"]})
    cloud.run_until_idle()
    # THEN nothing is scored or written again, and the state machine ran once for the file
    assert again["outcome"] == "already_scored", again
    assert part["outcome"] == merged["outcome"] == "already_scored"
    assert {name: body for name, body in outputs(cloud, MODEL).items() if "/clinic-dup-" in name} == before
    assert len([arn for arn in executions_of(cloud) if execution_input(cloud, key, arn)]) == 1


def executions_of(cloud: Any) -> list[str]:
    machine = cloud.provisioned.state_machines["score-parts"]
    listed = cloud.clients.stepfunctions.list_executions(stateMachineArn=machine)["executions"]
    return [execution["executionArn"] for execution in listed]


def execution_input(cloud: Any, key: str, arn: str | None = None) -> dict[str, Any]:
    """The input of the execution that scores ``key`` (of ``arn`` only, when given; {} if it is another's)."""
    for candidate in [arn] if arn else executions_of(cloud):
        document: dict[str, Any] = json.loads(
            cloud.clients.stepfunctions.describe_execution(executionArn=candidate)["input"])
        if document["job"]["source"] == key:
            return document
    return {}


def test_a_part_that_cannot_be_read_gets_the_file_a_report_with_the_reason(parts_stack):
    # GIVEN a CSV whose later records have more fields than its header
    cloud, _ = parts_stack
    body = csv_bytes(large_rows(500)) + b"1,2,3\n" * 2 + b"," * 80 + b"\n"
    # WHEN it is scored in parts
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=f"score/{MODEL}/clinic-bad.csv", Body=body)
    cloud.run_until_idle()
    # THEN the file's report says why, and no predictions are written
    written = {name: body for name, body in outputs(cloud, MODEL).items() if "/clinic-bad-" in name}
    reports = [json.loads(body) for name, body in written.items() if name.endswith("report.json")]
    assert reports and reports[0]["outcome"] == "refused" and "part" in reports[0]["reason"], reports
    assert not any(name.endswith("predictions.parquet") for name in written)


def test_a_file_whose_scoring_failed_is_scored_by_the_next_attempt_when_dropped_again(parts_stack):
    # GIVEN the live model's artifact cannot be read while a large file is scored: every part fails, and with them
    # the execution
    cloud, _ = parts_stack
    key, body = f"score/{MODEL}/clinic-retry.csv", csv_bytes(large_rows(400))
    with artifact_unreadable(cloud, MODEL):
        cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=key, Body=body)
        cloud.run_until_idle()
    (first,) = [arn for arn in executions_of(cloud) if execution_input(cloud, key, arn)]
    assert cloud.clients.stepfunctions.describe_execution(executionArn=first)["status"] == "ABORTED"
    assert not [name for name in outputs(cloud, MODEL) if "/clinic-retry-" in name and name.endswith("report.json")]
    # WHEN the same file is dropped again (same content, same ETag)
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=key, Body=body)
    cloud.run_until_idle()
    # THEN a second execution, under its own name, scores it; the parts scored nothing twice
    runs = [arn for arn in executions_of(cloud) if execution_input(cloud, key, arn)]
    assert len(runs) == 2 and sorted(arn.rsplit(":", 1)[-1] for arn in runs)[1].endswith("-a2"), runs
    written = {name: data for name, data in outputs(cloud, MODEL).items() if "/clinic-retry-" in name}
    (report_key,) = [name for name in written if name.endswith("/v1/report.json")]
    report = json.loads(written[report_key])
    assert report["rows"] == 400 and report["refused"] == 0, report


def test_a_parquet_file_too_small_to_split_is_sized_once_and_scored_here(parts_stack, tmp_path: Path):
    import dataclasses

    import boto3

    from sluice.steps.context import StepContext
    from sluice.steps.score import PartsTarget, score_file
    from sluice.storage import ObjectStore

    # GIVEN a Parquet file below the split size, and score_batch's path with the scoring state machine at hand
    cloud, _ = parts_stack
    key = f"score/{MODEL}/few.parquet"
    rows = samples.read_rows(samples.BREAST_CANCER)[:20]
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=key, Body=sink.getvalue().to_pybytes())
    etag = cloud.clients.s3.head_object(Bucket=cloud.settings.data_bucket, Key=key)["ETag"].strip('"')
    s3 = boto3.client("s3")
    heads: list[str] = []
    s3.meta.events.register("provide-client-params.s3.HeadObject", lambda params, **_: heads.append(params["Key"]))
    context = StepContext.from_env()
    context = dataclasses.replace(context, data=ObjectStore(s3, cloud.settings.data_bucket))
    target = PartsTarget(cloud.provisioned.state_machines["score-parts"], cloud.clients.stepfunctions)
    # WHEN it is scored
    result = score_file(context, key, etag=etag, parts=target)
    # THEN here, in one worker, with one HeadObject of the file (the plan's size is the scoring's)
    assert result["outcome"] == "scored" and result["rows"] == 20, result
    assert heads.count(key) == 1, heads
