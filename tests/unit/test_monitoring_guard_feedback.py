"""The retrain guard (the registry's ``retrain`` lease; both backends: test_registry_contract) and live quality
from feedback."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import roc_auc_score

from sluice.config import ConfigError, load_config_text
from sluice.monitoring.feedback import FeedbackError, join_feedback, quality_by_version, read_feedback, roc_auc
from sluice.monitoring.guard import RetrainGuard
from sluice.registry import InMemoryRegistry


def test_one_retrain_at_a_time_then_a_cool_down() -> None:
    now = [1000.0]
    guard = RetrainGuard(InMemoryRegistry(clock=lambda: now[0]))
    # GIVEN a drift trigger that took the guard
    assert guard.acquire("m", owner="a", trigger="DriftDetected", lease_s=900).acquired
    # WHEN another trigger arrives while it runs THEN it is debounced
    busy = guard.acquire("m", owner="b", trigger="alarm", lease_s=900)
    assert not busy.acquired and "running" in busy.reason and "DriftDetected" in busy.reason
    # WHEN the first finishes, the cool-down holds further triggers off until it passes
    guard.release("m", owner="a", cooldown_s=600)
    now[0] = 1500.0
    cooling = guard.acquire("m", owner="c", trigger="alarm", lease_s=900)
    assert not cooling.acquired and "cool-down" in cooling.reason and cooling.busy_until == 1600
    now[0] = 1601.0
    assert guard.acquire("m", owner="d", trigger="alarm", lease_s=900).acquired
    # AND another model is independent; a stale owner's release changes nothing
    assert guard.acquire("other", owner="e", trigger="alarm", lease_s=900).acquired
    guard.release("m", owner="a", cooldown_s=99999)
    state = guard.state("m")
    assert state is not None and state.owner == "d" and state.cooldown_until == 1600


def test_a_schedule_takes_the_lease_without_starting_a_cool_down() -> None:
    now = [0.0]
    guard = RetrainGuard(InMemoryRegistry(clock=lambda: now[0]))
    assert guard.acquire("m", owner="s", trigger="schedule", lease_s=900, force=True).acquired
    assert not guard.acquire("m", owner="x", trigger="DriftDetected", lease_s=900).acquired
    guard.release("m", owner="s", cooldown_s=None)
    now[0] = 1.0
    assert guard.acquire("m", owner="x", trigger="DriftDetected", lease_s=900).acquired
    # AND an expired lease (a crashed retrain) does not block forever
    now[0] = 2000.0
    assert guard.acquire("m", owner="y", trigger="alarm", lease_s=900).acquired


def test_feedback_joins_by_request_id_and_scores_each_version() -> None:
    # GIVEN captured predictions of two versions and labels for some of them (CSV)
    captures = pa.Table.from_pylist([
        {"request_id": "r1", "instance": 0, "model_version": "1", "prediction": "yes",
         "probabilities": json.dumps({"yes": 0.8, "no": 0.2})},
        {"request_id": "r1", "instance": 1, "model_version": "1", "prediction": "no",
         "probabilities": json.dumps({"yes": 0.3, "no": 0.7})},
        {"request_id": "r2", "instance": 0, "model_version": "2", "prediction": "yes",
         "probabilities": json.dumps({"yes": 0.6, "no": 0.4})},
        {"request_id": "r3", "instance": 0, "model_version": "2", "prediction": "no",
         "probabilities": json.dumps({"yes": 0.1, "no": 0.9})},
    ])
    body = b"request_id,instance,target\nr1,0,yes\nr1,1,yes\nr2,0,yes\nr3,0,no\nunknown,0,yes\n"
    feedback = read_feedback(body, "feedback/m/labels.csv", "target")
    # WHEN they are joined and scored
    joined = join_feedback(feedback, captures)
    versions = {q.version: q for q in quality_by_version(joined, task="classification", positive="yes")}
    # THEN unknown request ids are ignored and each version has its accuracy (AUC needs both classes)
    assert len(joined) == 4
    assert versions["1"].metrics == {"accuracy": 0.5}
    assert versions["2"].metrics["accuracy"] == 1.0 and versions["2"].metrics["roc_auc"] == 1.0


def test_regression_feedback_from_json_lines_and_bad_files() -> None:
    captures = pa.Table.from_pylist([{"request_id": "a", "instance": 0, "model_version": "4", "prediction": 10.0},
                                     {"request_id": "b", "instance": 0, "model_version": "4", "prediction": 20.0}])
    body = b'{"request_id": "a", "label": 13}\n{"request_id": "b", "label": 16}\n'
    joined = join_feedback(read_feedback(body, "feedback/m/x.jsonl", "progression"), captures)
    (quality,) = quality_by_version(joined, task="regression", positive=None)
    assert quality.metrics == {"rmse": pytest.approx(np.sqrt(12.5)), "mae": 3.5}
    with pytest.raises(FeedbackError, match="request_id"):
        read_feedback(b"id,label\n1,2\n", "feedback/m/x.csv", "target")


def test_rank_auc_matches_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    truth = rng.random(500) < 0.4
    scores = np.round(rng.random(500) + truth * 0.3, 2)  # with ties
    assert roc_auc(truth, scores) == pytest.approx(roc_auc_score(truth, scores))
    assert roc_auc(np.ones(3, dtype=bool), np.ones(3)) is None


def test_monitoring_config_defaults_and_errors() -> None:
    base = """[models.mm]\ntask = "regression"\n[models.mm.training]\nfamilies = ["ridge"]\n
[models.mm.contract]\ntarget = "y"\n[[models.mm.contract.columns]]\nname = "x"\n"""
    settings = load_config_text(base).model("mm").monitoring
    assert settings.numeric_method == "psi" and settings.drift_schedule is None and settings.drifted("ks", 0.01)
    tuned = load_config_text(base + '[models.mm.monitoring]\nthresholds = { psi = 0.3 }\ncapture_rate = 0.1\n')
    assert tuned.model("mm").monitoring.threshold("psi") == 0.3
    assert not tuned.model("mm").monitoring.drifted("psi", 0.29)
    for bad in ("capture_rate = 2", 'numeric_method = "chisquare"', "thresholds = { nope = 1 }", "drift_share = 0"):
        with pytest.raises(ConfigError):
            load_config_text(base + f"[models.mm.monitoring]\n{bad}\n")
