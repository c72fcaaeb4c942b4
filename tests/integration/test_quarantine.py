"""Bad drops are quarantined with a readable report; the raw file is never touched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
