"""Training data that grows: append windows, no-op retrains on unchanged data, the retrain cool-down."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from sluice.events import DetailType
from sluice.monitoring.guard import RetrainGuard
from sluice.registry import DatasetRecord
from sluice.steps.retrain import guarded_retrain
from sluice.steps.train import train_accepted, train_latest
from sluice.training import TrainingError
from sluice.training.window import EmptyWindowError, select_training_data
from tests.unit.growth_stack import MODEL, START, GrowthStack, config_text, drop_csv, growth_stack

DAY = 24 * 3600.0


def _accepted(stack: GrowthStack, name: str, body: bytes) -> dict[str, Any]:
    accepted = stack.drop(name, body)
    assert accepted["outcome"] == "accepted", accepted
    return accepted


def _record(version: str, day: float, origin: str = "drop", contract: str = "c1") -> DatasetRecord:
    from sluice.clock import iso

    return DatasetRecord(model=MODEL, data_version=version, rows=10, data_key=f"accepted/{MODEL}/{version}/d",
                         sources=(f"s3://b/{version}",), accepted_at=iso(START + day * DAY),
                         contract_version=contract, origin=origin)


def test_append_mode_trains_the_second_version_on_both_deliveries(aws: None) -> None:
    # GIVEN a model in append mode and a first monthly delivery, trained on
    stack = growth_stack(config_text('mode = "append"'))
    first = _accepted(stack, "jan.csv", drop_csv(120, seed=1))
    v1 = train_accepted(stack.ctx, MODEL, first["data_version"], correlation_id="jan")
    # WHEN a second delivery arrives a month later
    stack.advance_days(30)
    second = _accepted(stack, "feb.csv", drop_csv(120, seed=2, shift=1.0))
    v2 = train_accepted(stack.ctx, MODEL, second["data_version"], correlation_id="feb")
    # THEN version 2 trains on both deliveries, in order of acceptance, and names them in its lineage
    assert (v1["outcome"], v2["outcome"]) == ("trained", "trained")
    record = stack.ctx.registry.get_version(MODEL, v2["version"])
    assert record.lineage["data_versions"] == [first["data_version"], second["data_version"]]
    assert record.lineage["train_rows"] + record.lineage["holdout_rows"] == 240
    assert record.data_version not in (first["data_version"], second["data_version"])
    assert record.lineage["window"]["mode"] == "append" and record.lineage["window"]["drops"] == 2
    # AND the ModelTrained event carries the same window
    trained = stack.events.of(DetailType.MODEL_TRAINED)[-1]
    assert trained["data_versions"] == record.lineage["data_versions"]
    # AND version 1 trained on its own delivery only
    assert stack.ctx.registry.get_version(MODEL, v1["version"]).lineage["train_rows"] == 96


def test_append_window_keeps_the_last_drops_inside_the_days(aws: None) -> None:
    # GIVEN three deliveries ten days apart, with a window of the last 2 drops within 25 days
    stack = growth_stack(config_text('mode = "append"\nwindow_drops = 2\nwindow_days = 25'))
    versions = []
    for month, seed in (("a", 1), ("b", 2), ("c", 3)):
        versions.append(_accepted(stack, f"{month}.csv", drop_csv(80, seed=seed))["data_version"])
        stack.advance_days(10)
    # WHEN a scheduled retrain runs ten days after the last delivery (the first is 30 days old)
    result = train_latest(stack.ctx, MODEL, trigger="schedule", correlation_id="s1")
    # THEN it trains on the last two deliveries only
    lineage = stack.ctx.registry.get_version(MODEL, result["version"]).lineage
    assert lineage["data_versions"] == versions[1:]
    # AND once the days pass beyond the window, the latest delivery alone is left
    stack.advance_days(11)
    later = train_latest(stack.ctx, MODEL, trigger="schedule", correlation_id="s2")
    assert stack.ctx.registry.get_version(MODEL, later["version"]).lineage["data_versions"] == versions[2:]


def test_window_selection_is_pure_and_orders_by_acceptance() -> None:
    from sluice.config import load_config_text

    model = load_config_text(config_text('mode = "append"\nwindow_drops = 2\nlearn_from_feedback = true')
                             ).model(MODEL)
    # GIVEN drops listed out of order, a feedback dataset and a drop accepted under an older contract
    records = [_record("d3", 3), _record("d1", 1), _record("old", 0, contract="c0"), _record("f1", 2.5, "feedback"),
               _record("d2", 2), _record("f0", 1.5, "feedback")]
    # WHEN the training data is chosen
    data = select_training_data(model, records, now=START + 4 * DAY)
    # THEN the last two drops and the feedback since the first of them are used, oldest first
    assert data.data_versions == ("d2", "f1", "d3")
    assert data.window["excluded_other_contract"] == 1 and data.window["feedback_datasets"] == 1
    # AND snapshot mode takes the latest drop (plus later feedback when learning from it)
    snapshot = load_config_text(config_text("learn_from_feedback = true")).model(MODEL)
    assert select_training_data(snapshot, records, now=START).data_versions == ("d3",)
    assert select_training_data(snapshot, records, now=START, anchor="d2").data_versions == ("d2", "f1")
    with pytest.raises(EmptyWindowError):
        select_training_data(model, [], now=START)


def test_a_retrain_on_unchanged_data_creates_no_version(aws: None) -> None:
    # GIVEN a trained version in append mode
    stack = growth_stack(config_text('mode = "append"'))
    first = _accepted(stack, "jan.csv", drop_csv(100, seed=1))
    trained = train_accepted(stack.ctx, MODEL, first["data_version"], correlation_id="jan")
    # WHEN a scheduled retrain runs with no new data
    again = train_latest(stack.ctx, MODEL, trigger="schedule", correlation_id="weekly")
    # THEN no version is created; the no-op is audited and announced
    assert again["outcome"] == "unchanged" and again["same_as_version"] == trained["version"]
    assert [v.version for v in stack.ctx.registry.list_versions(MODEL)] == [trained["version"]]
    assert any(entry.change == "skipped (unchanged)" for entry in stack.ctx.registry.history(MODEL))
    assert stack.events.of(DetailType.TRAINING_SKIPPED)[0]["same_as_version"] == trained["version"]
    # AND a rerun of the first training resumes its own version instead of calling itself a no-op
    rerun = train_accepted(stack.ctx, MODEL, first["data_version"], correlation_id="jan")
    assert rerun["outcome"] == "trained" and rerun["version"] == trained["version"]
    # AND new data makes the next retrain train again
    stack.advance_days(1)
    _accepted(stack, "feb.csv", drop_csv(100, seed=2))
    assert train_latest(stack.ctx, MODEL, trigger="schedule", correlation_id="weekly-2")["outcome"] == "trained"


def test_a_changed_training_config_is_not_a_no_op(aws: None) -> None:
    # GIVEN a version trained on one drop
    stack = growth_stack(config_text())
    first = _accepted(stack, "jan.csv", drop_csv(100, seed=1))
    train_accepted(stack.ctx, MODEL, first["data_version"], correlation_id="jan")
    # WHEN the training config changes (more folds) and a retrain runs on the same data
    from dataclasses import replace

    from sluice.config import load_config_text

    changed = replace(stack.ctx, config=load_config_text(config_text().replace("cv_folds = 2", "cv_folds = 3")))
    result = train_latest(changed, MODEL, trigger="schedule", correlation_id="s")
    # THEN it trains a new version
    assert result["outcome"] == "trained" and result["version"] == 2


def test_a_failed_drift_retrain_starts_no_cool_down(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a model with accepted data and a retrain guard
    stack = growth_stack(config_text('mode = "append"'))
    _accepted(stack, "jan.csv", drop_csv(100, seed=1))
    guard = RetrainGuard(stack.ctx.registry)

    def fail(*_: Any, **__: Any) -> Any:
        raise TrainingError("the search found no candidate")

    # WHEN a drift-triggered retrain fails in training
    with monkeypatch.context() as patched:
        patched.setattr("sluice.steps.trained.fit_best", fail)
        failed = guarded_retrain(stack.ctx, MODEL, trigger="DriftDetected", correlation_id="d1", guard=guard)
    # THEN no cool-down started: the next trigger retrains at once, and succeeds
    assert failed["outcome"] == "failed"
    assert _cooldown_until(guard) == 0
    stack.now[0] += 60
    succeeded = guarded_retrain(stack.ctx, MODEL, trigger="DriftDetected", correlation_id="d2", guard=guard)
    assert succeeded["outcome"] == "trained"
    # AND only the successful train starts the cool-down, which debounces the next trigger
    cooldown = stack.ctx.config.model(MODEL).monitoring.retrain_cooldown_minutes * 60
    assert _cooldown_until(guard) == int(stack.now[0] + cooldown)
    debounced = guarded_retrain(stack.ctx, MODEL, trigger="alarm x", correlation_id="d3", guard=guard)
    assert debounced["outcome"] == "debounced"


def test_a_retrain_that_raises_starts_no_cool_down(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = growth_stack(config_text())
    _accepted(stack, "jan.csv", drop_csv(100, seed=1))
    guard = RetrainGuard(stack.ctx.registry)

    def crash(*_: Any, **__: Any) -> Any:
        raise RuntimeError("out of memory")

    # GIVEN a retrain whose training crashes WHEN an alarm triggers it THEN the error propagates
    monkeypatch.setattr("sluice.steps.trained.fit_best", crash)
    with pytest.raises(RuntimeError):
        guarded_retrain(stack.ctx, MODEL, trigger="alarm q", correlation_id="a1", guard=guard)
    # AND the lease is released with no cool-down
    state = guard.state(MODEL)
    assert state is not None and (state.lease_until, state.cooldown_until) == (0, 0)


def _cooldown_until(guard: RetrainGuard) -> int:
    state = guard.state(MODEL)
    assert state is not None, "the retrain never took the guard"
    return state.cooldown_until


def _captured_traffic(stack: GrowthStack, rows: int, *, seed: int) -> tuple[bytes, str]:
    """Captured requests of v1 (shifted usage, as after drift) and a feedback CSV labelling all of them."""
    import io

    import numpy as np
    import pandas as pd

    from sluice.monitoring.captures import partition_prefix, records_to_parquet

    frame = pd.read_csv(io.BytesIO(drop_csv(rows, seed=seed, shift=2.0)))
    at_ms = int(stack.now[0] * 1000)
    records = [json.dumps({"request_id": f"r{i}", "instance": 0, "model_version": "1", "captured_at": at_ms,
                           "prediction": "no", "probabilities": None,
                           "features": {"usage": float(row.usage), "plan": row.plan}}).encode()
               for i, row in enumerate(frame.itertuples())]
    ((day, parquet),) = records_to_parquet(records).items()
    stack.ctx.data.put_bytes(partition_prefix(MODEL, day) + "batch-1.parquet", parquet)
    labels = pd.DataFrame({"request_id": [f"r{i}" for i in range(rows)], "churned": frame["churned"]})
    key = f"feedback/{MODEL}/labels-{seed}.csv"
    stack.ctx.data.put_bytes(key, labels.to_csv(index=False).encode())
    assert np.all(frame["usage"].notna())
    return parquet, key


def test_labelled_traffic_becomes_training_data_of_a_drift_retrain(aws: None) -> None:
    from sluice.steps.feedback import record_feedback

    # GIVEN a model that learns from feedback, trained on one delivery
    stack = growth_stack(config_text('mode = "append"\nlearn_from_feedback = true'))
    first = _accepted(stack, "jan.csv", drop_csv(100, seed=1))
    train_accepted(stack.ctx, MODEL, first["data_version"], correlation_id="jan")
    # WHEN captured requests (after drift) are labelled by a feedback file
    stack.advance_days(1)
    _, key = _captured_traffic(stack, 60, seed=7)
    measured = record_feedback(stack.ctx, key, correlation_id="fb-1")
    # THEN the labelled traffic is validated by the contract and accepted as a data version of origin feedback
    dataset = measured["dataset"]
    assert dataset["outcome"] == "accepted" and dataset["rows"] == 60
    (record,) = [d for d in stack.ctx.registry.list_datasets(MODEL) if d.origin == "feedback"]
    assert record.data_version == dataset["data_version"] and record.sources == (f"s3://data/{key}",)
    manifest = stack.ctx.data.get_json(f"accepted/{MODEL}/{record.data_version}/manifest.json")
    assert manifest["lineage"]["origin"] == "feedback" and manifest["lineage"]["feedback_key"] == key
    # AND it never becomes the "latest drop"
    assert stack.ctx.registry.latest_dataset(MODEL).data_version == first["data_version"]  # type: ignore[union-attr]
    # AND the same file again adds no data version
    assert record_feedback(stack.ctx, key, correlation_id="fb-2")["dataset"]["outcome"] == "already_accepted"
    # WHEN drift triggers a retrain THEN it learns from the delivery and the recent traffic
    retrained = guarded_retrain(stack.ctx, MODEL, trigger="DriftDetected", correlation_id="drift-1",
                                guard=RetrainGuard(stack.ctx.registry))
    lineage = stack.ctx.registry.get_version(MODEL, retrained["version"]).lineage
    assert lineage["data_versions"] == [first["data_version"], record.data_version]
    assert lineage["train_rows"] + lineage["holdout_rows"] == 160


def test_labelled_traffic_the_contract_refuses_is_quarantined_not_learned(aws: None) -> None:
    from sluice.steps.feedback import record_feedback

    # GIVEN a model that learns from feedback, and too few labelled requests for its contract (min_rows 20)
    stack = growth_stack(config_text("learn_from_feedback = true"))
    first = _accepted(stack, "jan.csv", drop_csv(100, seed=1))
    train_accepted(stack.ctx, MODEL, first["data_version"], correlation_id="jan")
    _, key = _captured_traffic(stack, 8, seed=3)
    # WHEN the feedback is recorded
    measured = record_feedback(stack.ctx, key, correlation_id="fb")
    # THEN live quality is still measured, the rows are quarantined with a report, and no dataset is recorded
    assert measured["outcome"] == "measured" and measured["dataset"]["outcome"] == "rejected"
    assert "too_few_rows" in stack.ctx.data.get_bytes(measured["dataset"]["report_key"]).decode()
    assert [d.origin for d in stack.ctx.registry.list_datasets(MODEL)] == ["drop"]


def test_refit_on_all_ships_a_model_refit_on_train_and_holdout_after_the_gate(aws: None) -> None:
    from sluice.artifacts import (
        CARD_JSON_FILE,
        MODEL_FILE,
        REFIT_DIR,
        TRAINING_FILE,
        load_verified_model,
        sha256_hex,
    )
    from sluice.steps.evaluate import evaluate_candidate
    from sluice.steps.refit import refit_approved
    from sluice.storage import model_artifact_key

    # GIVEN a model with refit_on_all and a trained candidate
    stack = growth_stack(config_text(training="refit_on_all = true"))
    first = _accepted(stack, "jan.csv", drop_csv(150, seed=4))
    version = train_accepted(stack.ctx, MODEL, first["data_version"], correlation_id="jan")["version"]
    training = stack.ctx.artifacts.get_json(model_artifact_key(MODEL, version, TRAINING_FILE))
    # WHEN it is evaluated and approved
    evaluated = evaluate_candidate(stack.ctx, MODEL, version, correlation_id="jan")
    assert evaluated["outcome"] == "approved", evaluated
    # THEN the registry ships the refit (a new sha256); the gated artifact is untouched
    record = stack.ctx.registry.get_version(MODEL, version)
    refit = record.lineage["refit"]
    assert refit["applied"] and refit["rows"] == 150 and refit["gated_artifact_sha256"] == training["artifact_sha256"]
    assert record.artifact_sha256 == refit["artifact_sha256"] != training["artifact_sha256"]
    gated_bytes = stack.ctx.artifacts.get_bytes(model_artifact_key(MODEL, version, MODEL_FILE))
    assert sha256_hex(gated_bytes) == training["artifact_sha256"]
    refit_bytes = stack.ctx.artifacts.get_bytes(model_artifact_key(MODEL, version, f"{REFIT_DIR}/{MODEL_FILE}"))
    assert sha256_hex(refit_bytes) == record.artifact_sha256
    # AND the endpoint's loader finds and verifies the refit by the registered sha256 (the gated one too)
    instance = {"usage": 3.0, "plan": "pro"}
    shipped = load_verified_model(stack.ctx.artifacts, MODEL, version, record.artifact_sha256)
    gated = load_verified_model(stack.ctx.artifacts, MODEL, version, training["artifact_sha256"])
    for loaded in (shipped, gated):
        (label,) = loaded.predict([instance]).outputs
        assert label in {"yes", "no"}
    # AND the card records both the gated model's holdout metrics and the refit, with its ONNX parity
    card = stack.ctx.artifacts.get_json(model_artifact_key(MODEL, version, CARD_JSON_FILE))
    assert card["evaluation"]["metrics"] == record.metrics and "gated model" in card["evaluation"]["model"]
    assert card["refit"]["applied"] and card["refit"]["onnx_max_abs_diff"] <= 1e-4
    assert card["data"]["data_versions"] == [first["data_version"]]
    # AND a rerun of the refit returns what was stored instead of refitting again
    again = refit_approved(stack.ctx, stack.ctx.config.model(MODEL), stack.ctx.registry.get_version(MODEL, version),
                           pd.DataFrame(), pd.DataFrame())
    assert again["artifact_sha256"] == record.artifact_sha256


def test_without_refit_on_all_the_gated_model_ships(aws: None) -> None:
    from sluice.artifacts import CARD_JSON_FILE, REFIT_DIR, SIGNATURE_FILE
    from sluice.steps.evaluate import evaluate_candidate
    from sluice.storage import model_artifact_key

    stack = growth_stack(config_text())
    first = _accepted(stack, "jan.csv", drop_csv(150, seed=4))
    version = train_accepted(stack.ctx, MODEL, first["data_version"], correlation_id="jan")["version"]
    before = stack.ctx.registry.get_version(MODEL, version).artifact_sha256
    assert evaluate_candidate(stack.ctx, MODEL, version, correlation_id="jan")["outcome"] == "approved"
    assert stack.ctx.registry.get_version(MODEL, version).artifact_sha256 == before
    assert not stack.ctx.artifacts.exists(model_artifact_key(MODEL, version, f"{REFIT_DIR}/{SIGNATURE_FILE}"))
    card = stack.ctx.artifacts.get_json(model_artifact_key(MODEL, version, CARD_JSON_FILE))
    assert card["refit"] == {"configured": False, "applied": False}


def test_unreadable_training_data_fails_the_version_and_starts_no_cool_down(aws: None) -> None:
    # GIVEN accepted data whose stored Parquet became unreadable
    stack = growth_stack(config_text())
    first = _accepted(stack, "jan.csv", drop_csv(100, seed=1))
    stack.ctx.data.put_bytes(first["data_key"], b"not parquet")
    guard = RetrainGuard(stack.ctx.registry)
    # WHEN a drift retrain runs
    result = guarded_retrain(stack.ctx, MODEL, trigger="DriftDetected", correlation_id="d", guard=guard)
    # THEN the version failed with the reason, TrainingFailed is announced, and no cool-down started
    assert result["outcome"] == "failed" and "Parquet" in result["reason"]
    assert stack.ctx.registry.get_version(MODEL, result["version"]).status.value == "failed"
    assert stack.events.of(DetailType.TRAINING_FAILED)[0]["version"] == result["version"]
    assert _cooldown_until(guard) == 0


def test_a_row_held_out_once_stays_held_out_as_the_window_grows(aws: None) -> None:
    from sluice.steps.training_data import load_split

    # GIVEN two deliveries of an append-mode model
    stack = growth_stack(config_text('mode = "append"'))
    first = _accepted(stack, "jan.csv", drop_csv(100, seed=1))
    stack.advance_days(1)
    second = _accepted(stack, "feb.csv", drop_csv(100, seed=2))
    model = stack.ctx.config.model(MODEL)
    # WHEN the first window (January) and the grown one (January + February) are split
    train_1, holdout_1 = load_split(stack.ctx.data, [first["data_key"]], model)
    train_2, holdout_2 = load_split(stack.ctx.data, [first["data_key"], second["data_key"]], model)
    # THEN January's holdout is still held out, and no row the first model trained on is in the new holdout
    assert set(holdout_1["usage"]) <= set(holdout_2["usage"])
    assert set(train_1["usage"]) <= set(train_2["usage"])
    assert not set(train_1["usage"]) & set(holdout_2["usage"])
    assert len(train_2) + len(holdout_2) == 200
