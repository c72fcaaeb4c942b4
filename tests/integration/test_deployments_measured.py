"""The real measured path: a canary judged on the durations this machine actually took.

Every other release test scripts the local Lambda's durations (``ScriptedMeter``), so its verdict never depends on
the machine. This one measures, so its verdict does: it is marked ``measured`` and deselected by default
(pyproject's addopts), outside ``make test``'s verdict. Run it on a quiet machine with

    python -m pytest -m measured tests/integration/test_deployments_measured.py
"""

from __future__ import annotations

from typing import Any

import pytest

from sluice.local import MeasuredMeter
from tests.integration.releases import MODEL, approved, check, deploy, live_with, traffic

pytestmark = [pytest.mark.slow, pytest.mark.measured]
CANARY = {"strategy": "canary", "canary_weight": 0.2, "bake_minutes": 10, "checks": {"min_requests": 5}}


def test_a_canary_of_the_same_model_measured_on_this_machine_is_promoted(stack: Any, trained: Any) -> None:
    # GIVEN v1 live and a canary v2 of the same model, on the measuring meter (wall-clock handler durations)
    cloud = stack(meter=MeasuredMeter(), breast_cancer=CANARY)
    live_with(cloud, trained[MODEL])
    deploy(cloud, MODEL, approved(cloud, trained[MODEL]))
    traffic(cloud, MODEL, 60)
    # WHEN the bake ends
    cloud.advance(10)
    result = check(cloud, MODEL)
    # THEN both versions' p99 are real measurements read back from CloudWatch (not the scripted 20 ms) and,
    # the models being equal, the candidate is within the latency budget and promoted
    measured = result["candidate"]["latency_p99_ms"], result["live"]["latency_p99_ms"]
    print(f"measured p99: candidate {measured[0]} ms, live {measured[1]} ms")
    assert all(value is not None and value > 0 for value in measured)
    assert result["outcome"] == "promoted", result
