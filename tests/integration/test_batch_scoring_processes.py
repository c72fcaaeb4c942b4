"""Batch scoring in parts as `sluice local` plays it: on a moto server, each Distributed Map task in a worker
process (at most MaxConcurrency of them), the merge after; the result is the single worker's, row for row.

A module of its own: its moto server must not run beside another module's in-process (mock_aws) stack."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO
from tests.integration.releases import MODEL, config_with, live_with
from tests.integration.scoring import outputs
from tests.integration.test_batch_scoring_parts import SPLIT, csv_bytes, large_rows

pytestmark = pytest.mark.slow


def test_parts_are_scored_in_worker_processes_at_most_max_concurrency_at_once(tmp_path: Path, trained: Any) -> None:
    from moto.server import ThreadedMotoServer

    from sluice.local import LocalCloud, ScriptedMeter
    from sluice.local.environments import EnvironmentPool, ProcessEnvironment

    moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto_server.start()
    host, port = moto_server.get_host_and_port()
    urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST")).close()
    config = config_with(tmp_path, {MODEL: {"strategy": "all_at_once"}})
    text = config.read_text()
    assert text.count('on_violation = "flag"') == 1
    config.write_text(text.replace('on_violation = "flag"', SPLIT))
    started: list[tuple[str, Any]] = []
    cloud = LocalCloud(config, functions_dir=REPO / "functions", endpoint_url=f"http://{host}:{port}",
                       meter=ScriptedMeter()).start()
    original = cloud._start_process

    def recorded(key: Any) -> Any:
        environment = original(key)
        started.append((key[0], environment))
        return environment

    cloud._start_process = recorded  # type: ignore[method-assign]
    try:
        # GIVEN v1 live on a stack backed by a moto server, files above 0.05 MB split, MaxConcurrency 3
        live_with(cloud, trained[MODEL])
        body = csv_bytes(large_rows(700, broken={3: "not a number"}))
        # WHEN a file of 700 rows is dropped to score
        cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=f"score/{MODEL}/wide.csv", Body=body)
        cloud.run_until_idle()
        # THEN its parts ran in score_part worker processes, never more than 3, and were merged
        assert {function for function, _ in started} == {"score_part"}
        assert all(isinstance(environment, ProcessEnvironment) for _, environment in started)
        assert 1 <= len(started) <= 3
        assert isinstance(cloud._tasks, EnvironmentPool)
        written = outputs(cloud, MODEL)
        report_key = next(key for key in written if "/wide-" in key and key.endswith("/v1/report.json"))
        report = json.loads(written[report_key])
        assert len(report["parts"]) >= 5 and report["rows"] == 700 and report["flagged"] == 1
        in_parts = pq.read_table(pa.BufferReader(written[report_key.replace("report.json", "predictions.parquet")]))
        assert in_parts.column("mean_radius").to_pylist()[:5] == [row["mean_radius"] for row in
                                                                    large_rows(5, broken={3: "not a number"})]
    finally:
        cloud.stop()
        moto_server.stop()
