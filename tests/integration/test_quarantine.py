"""Bad drops are quarantined with a readable report; the raw file is never touched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sluice.demo import samples


def _rejected(cloud: Any) -> list[dict[str, Any]]:
    return [e.detail for e in cloud.timeline if e.kind == "event" and e.name == "DatasetRejected"]


def test_a_broken_file_is_quarantined_with_its_report(cloud: Any, tmp_path: Path) -> None:
    # GIVEN a damaged extract
    broken = tmp_path / "broken.csv"
    broken.write_bytes(samples.broken_copy(samples.BREAST_CANCER))
    key = cloud.drop(broken, "breast-cancer")
    # WHEN it is validated
    cloud.run_until_idle()
    # THEN it is rejected, nothing is trained, and the report names rule, column and rows
    (rejected,) = _rejected(cloud)
    bucket = cloud.settings.data_bucket
    prefix = rejected["report_key"].rsplit("/", 1)[0]
    listed = {o["Key"] for o in cloud.clients.s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]}
    assert listed == {f"{prefix}/broken.csv", f"{prefix}/report.json", f"{prefix}/summary.txt"}
    summary = cloud.clients.s3.get_object(Bucket=bucket, Key=f"{prefix}/summary.txt")["Body"].read().decode()
    assert "mean_radius" in summary and "mean_area" in summary and "diagnosis" in summary
    assert not [e for e in cloud.timeline if e.name == "ModelTrained"]
    # AND the raw drop is still where it was, unchanged
    assert cloud.clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read() == broken.read_bytes()


def test_a_drop_for_an_unknown_model_is_quarantined(cloud: Any, tmp_path: Path) -> None:
    cloud.drop(samples.BREAST_CANCER, "no-such-model")
    cloud.run_until_idle()
    (rejected,) = _rejected(cloud)
    assert "unknown model" in rejected["summary"]


def test_files_outside_incoming_are_not_validated(cloud: Any) -> None:
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key="notes/readme.txt", Body=b"hello")
    assert cloud.run_until_idle() == 0


def _report(cloud: Any, rejected: dict[str, Any]) -> tuple[dict[str, Any], str]:
    bucket = cloud.settings.data_bucket
    prefix = rejected["report_key"].rsplit("/", 1)[0]
    report = json.loads(cloud.clients.s3.get_object(Bucket=bucket, Key=rejected["report_key"])["Body"].read())
    summary = cloud.clients.s3.get_object(Bucket=bucket, Key=f"{prefix}/summary.txt")["Body"].read().decode()
    return report, summary


def test_unbalanced_quotes_are_quarantined_with_a_report_not_retried(cloud: Any, tmp_path: Path) -> None:
    # GIVEN the breast-cancer extract with a quote opened on line 40 and never closed (the rest of the file would
    # be one quoted value, larger than Python's csv field limit: this used to crash the Lambda into the DLQ)
    lines = samples.BREAST_CANCER.read_bytes().split(b"\n")
    lines[39] = b'"' + lines[39]
    broken = tmp_path / "unbalanced.csv"
    broken.write_bytes(b"\n".join(lines))
    key = cloud.drop(broken, "breast-cancer")
    # WHEN it is validated (a failing handler would raise here)
    cloud.run_until_idle()
    # THEN it is rejected with a report and a summary naming the quote's line, and the raw drop is unchanged
    (rejected,) = _rejected(cloud)
    report, summary = _report(cloud, rejected)
    assert [issue["rule"] for issue in report["issues"]] == ["unreadable"]
    assert summary.startswith("REJECTED") and "unbalanced quotes: line 40" in summary
    assert cloud.clients.s3.get_object(Bucket=cloud.settings.data_bucket, Key=key)["Body"].read() == broken.read_bytes()


def test_a_crash_of_validation_itself_is_quarantined_with_its_reason(cloud: Any, monkeypatch: Any) -> None:
    # GIVEN a validation that fails with an error that is neither bad data nor S3 (a fault of sluice)
    from sluice.steps import validate

    def crash(*_: object, **__: object) -> None:
        raise RuntimeError("normalized 3 of 4 accepted rows")

    monkeypatch.setattr(validate, "check_file", crash)
    cloud.drop(samples.BREAST_CANCER, "breast-cancer")
    # WHEN the drop is validated / THEN the handler does not raise: the drop is quarantined with the reason
    cloud.run_until_idle()
    (rejected,) = _rejected(cloud)
    report, summary = _report(cloud, rejected)
    assert [issue["rule"] for issue in report["issues"]] == ["validation_error"]
    assert "RuntimeError: normalized 3 of 4 accepted rows" in summary


def test_an_s3_read_failure_is_raised_for_a_retry_not_quarantined(cloud: Any, monkeypatch: Any) -> None:
    # GIVEN reading the dropped object fails (S3 or the network: not the file's fault)
    from botocore.exceptions import ReadTimeoutError

    from sluice.steps import validate

    def timeout(*_: object, **__: object) -> None:
        raise ReadTimeoutError(endpoint_url="https://s3")

    monkeypatch.setattr(validate, "check_file", timeout)
    cloud.drop(samples.BREAST_CANCER, "breast-cancer")
    # WHEN the drop is validated / THEN the error is raised (Lambda retries the event) and nothing is quarantined
    with pytest.raises(ReadTimeoutError):
        cloud.run_until_idle()
    assert not _rejected(cloud)
