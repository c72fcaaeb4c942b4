"""The hostile corpus: every malformed or hostile file gets its expected verdict and reason, through the real step.

Files, verdicts and reasons: tests/data/hostile/expected.csv (regenerate with tests/data/hostile/make_corpus.py).
Each file is dropped into the local stack's S3 (moto) for its model (default: hostile) and validated by
validate_drop, streamed as on Lambda; every rejected file must get its report, and no file may make it raise.
"""

from __future__ import annotations

import csv
import json
import resource
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sluice.steps.context import StepContext
from sluice.steps.validate import DroppedObject, validate_drop

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile"
CASES = list(csv.DictReader((CORPUS / "expected.csv").open()))
MODEL = "hostile"
MEMORY_CEILING_MB = 1536


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Any, StepContext]]:
    from sluice.local import LocalCloud

    with LocalCloud(CORPUS / "sluice.toml", functions_dir=Path(__file__).resolve().parents[2] / "functions") as cloud:
        yield cloud, StepContext.from_env()


def _validate(stack: tuple[Any, StepContext], name: str, model: str = MODEL) -> tuple[dict[str, Any], dict[str, Any]]:
    """Drop ``name`` for ``model`` and run the Lambda's step on it; its result and (rejected) its JSON report.

    A rejected file must be quarantined whole: the raw copy, the JSON report and the readable summary."""
    cloud, ctx = stack
    key = f"incoming/{model}/{name}"
    body = (CORPUS / name).read_bytes()
    s3 = cloud.clients.s3
    s3.put_object(Bucket=ctx.data.bucket, Key=key, Body=body)
    etag = s3.head_object(Bucket=ctx.data.bucket, Key=key)["ETag"].strip('"')
    result = validate_drop(ctx, DroppedObject(ctx.data.bucket, key, etag, len(body)))
    document = {}
    if result["outcome"] == "rejected":
        prefix = result["report_key"].rsplit("/", 1)[0]
        listed = {o["Key"] for o in s3.list_objects_v2(Bucket=ctx.data.bucket, Prefix=prefix)["Contents"]}
        assert listed == {f"{prefix}/{name}", f"{prefix}/report.json", f"{prefix}/summary.txt"}, listed
        document = ctx.data.get_json(result["report_key"])
        summary = s3.get_object(Bucket=ctx.data.bucket, Key=f"{prefix}/summary.txt")["Body"].read().decode()
        assert summary == document["summary"] and document["issues"], document
    assert s3.get_object(Bucket=ctx.data.bucket, Key=key)["Body"].read() == body, "the raw drop was changed"
    return result, document


def test_the_corpus_is_large_and_every_file_has_an_expectation() -> None:
    # GIVEN the corpus folder / WHEN listed / THEN 40+ files, each in the table exactly once
    files = {path.name for path in CORPUS.iterdir()} - {"expected.csv", "sluice.toml", "make_corpus.py"}
    assert len(CASES) >= 40
    assert files == {case["file"] for case in CASES}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_hostile_file_gets_its_verdict_and_reason(stack: tuple[Any, StepContext], case: dict[str, str]) -> None:
    # GIVEN a file of the corpus dropped under incoming/<its model>/
    # WHEN the validate step runs on it (streamed from S3, in process: the function the Lambda runs)
    result, report = _validate(stack, case["file"], case["model"] or MODEL)
    # THEN no exception, the verdict is the expected one (a rejection quarantined with its JSON report and
    # readable summary), and memory stayed bounded
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 < MEMORY_CEILING_MB
    if case["verdict"] == "accepted":
        assert result["outcome"] in ("accepted", "already_accepted"), result.get("summary")
        return
    assert result["outcome"] == "rejected"
    # AND the quarantine report names the rule first among the errors, with the reason in plain words
    errors = [issue for issue in report["issues"] if issue["severity"] == "error"]
    assert case["rule"] in {issue["rule"] for issue in errors}, report["summary"]
    assert case["reason"].lower() in report["summary"].lower(), report["summary"]
    assert report["summary"].startswith("REJECTED")


def test_every_shape_of_the_good_data_gets_one_data_version(stack: tuple[Any, StepContext]) -> None:
    # GIVEN the same rows as CSV, TSV, gzip, JSON Lines and with a BOM or CRLF
    names = ["good.csv", "good.tsv", "good.csv.gz", "good_two_members.csv.gz", "bom.csv", "crlf.csv",
             "padded_values.csv"]
    # WHEN each is validated
    versions = {name: _validate(stack, name)[0]["data_version"] for name in names}
    # THEN they are one data version: the content, not the file, is versioned
    assert len(set(versions.values())) == 1, versions
    _, ctx = stack
    manifest = ctx.data.get_json(f"accepted/{MODEL}/{versions['good.csv']}/manifest.json")
    record = ctx.registry.latest_dataset(MODEL)
    assert record is not None and record.contract_version == manifest["contract_version"]
    assert json.dumps(manifest["validation"]["accepted"]) == "true"
