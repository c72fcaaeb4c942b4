"""Batch scoring while a release is in progress: the version the configuration names scores the file (a module
of its own: its local stacks come from the release fixtures, never beside another module's running stack)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.scoring import outputs, to_score

CANARY = {"strategy": "canary", "canary_weight": 0.2, "bake_minutes": 10, "checks": {"min_requests": 5}}


@pytest.mark.parametrize(("batch_version", "expected"), [("live", 1), ("release", 2)])
def test_a_file_scored_during_a_release_uses_the_version_the_config_names(stack: Any, trained: Any,
                                                                          batch_version: str, expected: int) -> None:
    from tests.integration.releases import MODEL, approved, deploy, live_with

    # GIVEN v1 live and v2 a 20 % canary, and [serving] batch_version set (written before score_batch first runs:
    # a function reads the configuration when its container starts)
    cloud = stack(breast_cancer=CANARY)
    text = cloud.config_path.read_text()
    assert 'on_violation = "flag"' in text
    cloud.config_path.write_text(text.replace('on_violation = "flag"',
                                              f'on_violation = "flag"\nbatch_version = "{batch_version}"'))
    live_with(cloud, trained[MODEL])
    assert deploy(cloud, MODEL, approved(cloud, trained[MODEL]))["outcome"] == "release_started"
    folder = cloud.config_path.parent
    path, _ = to_score(folder, f"during-{batch_version}.csv")
    # WHEN a file is dropped to score (no version in its key) while the release is in progress
    cloud.clients.s3.upload_file(str(path), cloud.settings.data_bucket, f"score/{MODEL}/{path.name}")
    cloud.run_until_idle()
    # THEN it is scored by the version the configuration names: live's (v1) or the release's (v2)
    written = [key for key in outputs(cloud, MODEL) if f"/during-{batch_version}-" in key]
    assert any(key.endswith(f"/v{expected}/predictions.parquet") for key in written), written
