"""`sluice drop --wait` on AWS reads the outcome back from the registry and S3 the real pipeline wrote (on moto)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sluice.cli.follow_command import follow_drop
from sluice.cli.target import Target
from sluice.demo import samples

MODEL = "breast-cancer"
pytestmark = pytest.mark.slow


def _aws_target(cloud: Any) -> Target:
    """The CLI's view of an AWS deployment: SLUICE_* settings, no local stack (so no timeline journal)."""
    return Target(settings=cloud.settings, http_url=None, aws_endpoint=None)


def _etag(cloud: Any, key: str) -> str:
    head = cloud.clients.s3.head_object(Bucket=cloud.settings.data_bucket, Key=key)
    return str(head["ETag"]).strip('"')


def test_a_drop_that_went_live_and_one_that_was_rejected_read_back_from_the_registry(
        cloud: Any, tmp_path: Path) -> None:
    # GIVEN a good file and a broken one dropped, and the pipeline run to the end
    good = cloud.drop(samples.BREAST_CANCER, MODEL)
    broken_file = tmp_path / "broken.csv"
    broken_file.write_bytes(samples.broken_copy(samples.BREAST_CANCER))
    broken = cloud.drop(broken_file, MODEL)
    cloud.run_until_idle()
    # WHEN each is followed the AWS way (one poll: everything has happened)
    live = follow_drop(_aws_target(cloud), MODEL, good, _etag(cloud, good), offset=None, timeout_s=0, show=False)
    rejected = follow_drop(_aws_target(cloud), MODEL, broken, _etag(cloud, broken), offset=None, timeout_s=0,
                           show=False)
    # THEN the good one is v1, live, with the metrics its evaluation recorded
    assert live is not None and (live.status, live.version, live.exit_code) == ("live", 1, 0)
    assert live.metrics["roc_auc"] > 0.9 and live.data_version
    # AND the broken one is rejected with the rules and columns of its quarantine report
    assert rejected is not None and (rejected.status, rejected.exit_code) == ("rejected", 1)
    assert ("target_value", "diagnosis") in {(issue["rule"], issue["column"]) for issue in rejected.issues}
    assert rejected.report_key and rejected.report_key.startswith(f"rejected/{MODEL}/broken-")
