"""`sluice drop --wait`: one outcome model, fed by a local timeline or by the registry and S3 (on moto)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sluice.cli.follow import TRIAL, DropFollower, follow
from sluice.cli.follow_sources import JournalSource, RegistrySource
from sluice.local.journal import TimelineJournal
from sluice.local.runtime import TimelineEntry
from sluice.registry import DynamoDBRegistry, Status
from sluice.storage import ObjectStore, rejected_prefix

MODEL = "m"
DROP = "part-1-abc123"
KEY = f"incoming/{MODEL}/part-1.csv"
REPORT = {"rows": 40, "issues": [
    {"rule": "type", "column": "mean_radius", "count": 1, "message": "1 value is not a float", "severity": "error"},
    {"rule": "target_value", "column": "diagnosis", "count": 2, "message": "not in target_values",
     "severity": "error"},
    {"rule": "null_fraction", "column": "x", "count": 3, "message": "a warning", "severity": "warning"},
]}


def _follower(reports: dict[str, Any] | None = None) -> DropFollower:
    return DropFollower(MODEL, KEY, DROP, read_report=lambda key: (reports or {}).get(key),
                        report_location=lambda key: f"s3://data/{key}")


def _ours(**detail: Any) -> dict[str, Any]:
    return {"model": MODEL, "correlation_id": DROP, **detail}


def test_a_drop_followed_to_live_ends_with_the_version_and_its_metrics() -> None:
    # GIVEN a follower of one drop
    follower = _follower()
    # WHEN the events of its way through the pipeline arrive, mixed with another drop's
    follower.observe("DatasetAccepted", _ours(data_version="dv1", rows=569))
    follower.observe("DatasetAccepted", {"model": MODEL, "correlation_id": "other", "data_version": "dv9"})
    for number, value in enumerate((0.97, 0.99)):
        follower.observe(TRIAL, {"model": MODEL, "number": number, "family": "rf", "state": "complete",
                                 "value": value, "best": 0.99, "planned": 8})
    follower.observe("ModelTrained", _ours(version=3, data_version="dv1"))
    follower.observe("ModelEvaluated", _ours(version=3, approved=True, metrics={"roc_auc": 0.991}, reasons=[]))
    follower.observe("DeploymentStarted", _ours(version=3, stage="canary 10%", weight=0.1))
    assert follower.state.stage == "releasing" and follower.state.release.startswith("canary 10%")
    follower.observe("ModelDeployed", {"model": MODEL, "version": 3, "correlation_id": "release-check"})
    # THEN it ends live, with the version, its data version, its metrics and exit code 0
    outcome = follower.state.outcome
    assert outcome is not None and outcome.status == "live" and outcome.exit_code == 0
    assert (outcome.version, outcome.data_version, outcome.metrics) == (3, "dv1", {"roc_auc": 0.991})
    assert "v3 is live" in outcome.message and "roc_auc=0.991" in outcome.message
    # AND the trials were counted against their budget; the other drop changed nothing
    assert (follower.state.trials, follower.state.trials_planned, follower.state.best) == (2, 8, 0.99)
    assert follower.state.rows == 569


def test_a_training_job_started_for_the_drop_is_not_its_end() -> None:
    # GIVEN a drop accepted and trained on the sagemaker backend: train_model answers "training" (a job started)
    follower = _follower()
    follower.observe("DatasetAccepted", _ours(data_version="dv1", rows=569))
    follower.observe("train_model", {"outcome": "training", "model": MODEL, "version": 1, "data_version": "dv1",
                                     "job": "sluice-train-m-v1-0123456789"})
    # THEN the drop is still training, and the job's end decides
    assert follower.state.outcome is None and follower.state.stage == "training"
    follower.observe("ModelTrained", _ours(version=1, data_version="dv1"))
    assert follower.state.version == 1


def test_a_rejected_drop_names_the_rule_column_count_and_where_the_report_is() -> None:
    report_key = rejected_prefix(MODEL, DROP) + "report.json"
    follower = _follower({report_key: REPORT})
    follower.observe("DatasetRejected", _ours(report_key=report_key, summary="REJECTED: 40 rows"))
    outcome = follower.state.outcome
    assert outcome is not None and outcome.status == "rejected" and outcome.exit_code == 1
    assert "type in column 'mean_radius' (count 1)" in outcome.message and "1 more issue" in outcome.message
    assert f"s3://data/{report_key}" in outcome.message and outcome.report_key == report_key
    assert [(i["rule"], i["column"], i["count"]) for i in outcome.issues] == [("type", "mean_radius", 1),
                                                                              ("target_value", "diagnosis", 2)]
    assert follower.state.ended_in == "validating"


@pytest.mark.parametrize(("name", "detail", "status", "code", "words"), [
    ("TrainingFailed", _ours(version=2, reason="only one class"), "failed", 1, "training failed: only one class"),
    ("ModelEvaluated", _ours(version=2, approved=False, reasons=["roc_auc 0.8 < 0.9"], metrics={"roc_auc": 0.8}),
     "not_approved", 1, "v2 did not pass its gate: roc_auc 0.8 < 0.9"),
])
def test_a_training_or_gate_failure_is_the_outcome_with_its_reason(name: str, detail: dict[str, Any], status: str,
                                                                   code: int, words: str) -> None:
    follower = _follower()
    follower.observe("DatasetAccepted", _ours(data_version="dv1", rows=10))
    follower.observe("ModelTrained", _ours(version=2))
    follower.observe(name, detail)
    outcome = follower.state.outcome
    assert outcome is not None and (outcome.status, outcome.exit_code) == (status, code) and words in outcome.message


def test_content_accepted_before_ends_at_once_as_unchanged() -> None:
    follower = _follower()
    follower.observe("validate_dataset", _ours(outcome="already_accepted", data_version="dv1", rows=569))
    outcome = follower.state.outcome
    assert outcome is not None and outcome.status == "unchanged" and outcome.exit_code == 0
    assert "data version dv1" in outcome.message


def test_a_drop_whose_training_data_is_unchanged_ends_as_a_recorded_no_op(
        aws: tuple[ObjectStore, DynamoDBRegistry]) -> None:
    # GIVEN the local timeline's TrainingSkipped for this drop
    follower = _follower()
    follower.observe("DatasetAccepted", _ours(data_version="dv1", rows=10))
    follower.observe("TrainingSkipped", _ours(same_as_version=2, reason="data equal those of v2"))
    outcome = follower.state.outcome
    assert outcome is not None and (outcome.status, outcome.exit_code) == ("unchanged", 0)
    assert "same as v2" in outcome.message
    # AND on AWS the audit note train_model writes for it
    store, registry = aws
    registry.note(MODEL, subject="retrain", change="skipped (unchanged)", reason="data equal those of v2",
                  actor="train_model", correlation_id=DROP)
    follower = _follower()
    _poll_into(follower, RegistrySource(store, registry, MODEL, DROP))
    outcome = follower.state.outcome
    assert outcome is not None and outcome.status == "unchanged" and "data equal those of v2" in outcome.message


def test_an_aborted_release_fails_the_drop_and_later_events_change_nothing() -> None:
    follower = _follower()
    for name, detail in [("DatasetAccepted", _ours(data_version="dv1")), ("ModelTrained", _ours(version=4)),
                         ("ModelEvaluated", _ours(version=4, approved=True, metrics={})),
                         ("DeploymentAborted", {"model": MODEL, "version": 4, "reason": "p99 x3",
                                                "live_version": 3})]:
        follower.observe(name, detail)
    follower.observe("ModelDeployed", {"model": MODEL, "version": 4})
    outcome = follower.state.outcome
    assert outcome is not None and outcome.status == "aborted" and "p99 x3; live stays v3" in outcome.message


def test_following_gives_up_after_the_timeout_without_waiting_for_real() -> None:
    # GIVEN a source that never says anything and a fake clock
    now = [0.0]

    class Silent:
        def poll(self) -> list[tuple[str, dict[str, Any]]]:
            return []

    # WHEN followed for 10 "seconds"
    outcome = follow(_follower(), Silent(), on_change=lambda state: None, timeout_s=10, interval_s=1,
                     clock=lambda: now[0], sleep=lambda seconds: now.__setitem__(0, now[0] + seconds))
    # THEN no outcome, and the fake clock (not the machine) moved
    assert outcome is None and now[0] == 10


def test_the_journal_hands_each_complete_entry_once(tmp_path: Path) -> None:
    journal = TimelineJournal(tmp_path / "timeline.jsonl").reset()
    journal.append(TimelineEntry(1.0, "event", "DatasetAccepted", _ours(data_version="dv1")))
    offset = journal.end()
    journal.append(TimelineEntry(2.0, "progress", TRIAL, {"model": MODEL, "number": 0}))
    journal.append(TimelineEntry(3.0, "invoke", "deploy_model", {"outcome": "deployed"}))
    with journal.path.open("a") as handle:
        handle.write('{"at": 4.0, "kind": "ev')  # a line still being written
    source = JournalSource(journal, offset)
    assert source.poll() == [(TRIAL, {"model": MODEL, "number": 0})]
    assert source.poll() == []


@pytest.fixture
def aws() -> Iterator[tuple[ObjectStore, DynamoDBRegistry]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="data")
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="registry", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        yield ObjectStore(s3, "data"), DynamoDBRegistry(dynamodb, "registry")


def _poll_into(follower: DropFollower, source: RegistrySource) -> None:
    for name, detail in source.poll():
        follower.observe(name, detail)


def test_on_aws_the_registry_trail_of_the_drop_leads_to_the_same_outcome(
        aws: tuple[ObjectStore, DynamoDBRegistry]) -> None:
    store, registry = aws
    # GIVEN another drop's live v1, then this drop's v2 claimed for training
    registry.claim_version(MODEL, data_version="dv0", code_version="c", lineage={}, actor="t", correlation_id="x")
    claimed = registry.claim_version(MODEL, data_version="dv1", code_version="c", actor="t", correlation_id=DROP,
                                     lineage={"train_rows": 455, "holdout_rows": 114})
    follower, source = _follower(), RegistrySource(store, registry, MODEL, DROP)
    _poll_into(follower, source)
    # THEN it is training on the accepted data
    assert (follower.state.stage, follower.state.data_version, follower.state.rows) == ("training", "dv1", 569)
    # WHEN it is trained, approved and promoted (polled at each step, so every fact is seen again)
    registry.transition(MODEL, claimed.version, to=Status.CANDIDATE, reason="trained", actor="t", correlation_id=DROP,
                        fields={"artifact_sha256": "ab" * 32})
    _poll_into(follower, source)
    assert (follower.state.stage, follower.state.version) == ("evaluating", 2)
    registry.transition(MODEL, claimed.version, to=Status.APPROVED, reason="gate", actor="t", correlation_id=DROP,
                        fields={"metrics": {"roc_auc": 0.98}})
    _poll_into(follower, source)
    assert follower.state.stage == "releasing" and follower.state.outcome is None
    registry.promote(MODEL, claimed.version, lambda_version="7", reason="r", actor="t", correlation_id=DROP)
    _poll_into(follower, source)
    # THEN the outcome is the one the local timeline gives: v2 live with its metrics
    outcome = follower.state.outcome
    assert outcome is not None and (outcome.status, outcome.version, outcome.metrics) == ("live", 2,
                                                                                          {"roc_auc": 0.98})


def test_a_version_waiting_for_approval_ends_the_drop_with_what_to_do_next(
        aws: tuple[ObjectStore, DynamoDBRegistry]) -> None:
    # GIVEN a drop followed locally whose version passed its gate and waits for a human
    follower = _follower()
    follower.observe("ModelTrained", _ours(version=2, data_version="dv1"))
    follower.observe("ModelEvaluated", _ours(version=2, approved=True, metrics={"roc_auc": 0.98}, reasons=[]))
    follower.observe("ApprovalRequested", {"model": MODEL, "version": 2, "expires_at": "2027-01-22T08:00:00Z",
                                           "correlation_id": DROP})
    # THEN it ends (exit 0: the pipeline did all it can) saying how to approve or reject it
    outcome = follower.state.outcome
    assert outcome is not None and (outcome.status, outcome.version, outcome.exit_code) == ("pending_approval", 2, 0)
    assert "waits for approval until 2027-01-22T08:00" in outcome.message
    assert f"sluice approve {MODEL} 2 --reason" in outcome.message
    # AND on AWS the registry trail of a waiting version reads back to the same outcome
    store, registry = aws
    claimed = registry.claim_version(MODEL, data_version="dv1", code_version="c", lineage={}, actor="t",
                                     correlation_id=DROP)
    for status in (Status.CANDIDATE, Status.APPROVED, Status.PENDING_APPROVAL):
        registry.transition(MODEL, claimed.version, to=status, reason="r", actor="t", correlation_id=DROP,
                            fields={"approval": {"expires_at": "2027-01-22T08:00:00Z"}})
    follower = _follower()
    _poll_into(follower, RegistrySource(store, registry, MODEL, DROP))
    outcome = follower.state.outcome
    assert outcome is not None and (outcome.status, outcome.version) == ("pending_approval", claimed.version)


def test_on_aws_a_gate_rejection_and_a_failed_training_are_read_back(
        aws: tuple[ObjectStore, DynamoDBRegistry]) -> None:
    store, registry = aws
    rejected = registry.claim_version(MODEL, data_version="dv1", code_version="c", lineage={}, actor="t",
                                      correlation_id=DROP)
    registry.transition(MODEL, rejected.version, to=Status.CANDIDATE, reason="t", actor="t", correlation_id=DROP)
    registry.transition(MODEL, rejected.version, to=Status.REJECTED, reason="roc_auc too low", actor="t",
                        correlation_id=DROP, fields={"gate_reasons": ["roc_auc 0.7 < 0.9"]})
    follower = _follower()
    _poll_into(follower, RegistrySource(store, registry, MODEL, DROP))
    outcome = follower.state.outcome
    assert outcome is not None and outcome.status == "not_approved" and "roc_auc 0.7 < 0.9" in outcome.message

    failed = registry.claim_version(MODEL, data_version="dv2", code_version="c", lineage={}, actor="t",
                                    correlation_id="drop-2")
    registry.transition(MODEL, failed.version, to=Status.FAILED, reason="only one class", actor="t",
                        correlation_id="drop-2")
    follower = DropFollower(MODEL, KEY, "drop-2", read_report=lambda key: None)
    _poll_into(follower, RegistrySource(store, registry, MODEL, "drop-2"))
    outcome = follower.state.outcome
    assert outcome is not None and outcome.status == "failed" and "only one class" in outcome.message


def test_on_aws_a_quarantine_report_at_the_drops_prefix_is_the_rejection(
        aws: tuple[ObjectStore, DynamoDBRegistry]) -> None:
    store, registry = aws
    report_key = rejected_prefix(MODEL, DROP) + "report.json"
    follower = DropFollower(MODEL, KEY, DROP, read_report=store.get_json)
    _poll_into(follower, RegistrySource(store, registry, MODEL, DROP))
    assert follower.state.outcome is None  # nothing yet
    store.put_json(report_key, REPORT)
    _poll_into(follower, RegistrySource(store, registry, MODEL, DROP))
    outcome = follower.state.outcome
    assert outcome is not None and outcome.status == "rejected" and outcome.issues[0]["column"] == "mean_radius"


def test_training_reports_each_trial_as_it_finishes_with_the_best_so_far() -> None:
    # GIVEN the diabetes data and a budget of 4 trials (RMSE: lower is better)
    import dataclasses

    import pandas as pd

    from sluice import progress
    from sluice.config import TuningSettings, load_config
    from sluice.training import split_holdout, train_best

    root = Path(__file__).resolve().parents[2]
    config = load_config(root / "sluice.toml").model("diabetes")
    train, _ = split_holdout(pd.read_csv(root / "layers/sluice/python/sluice/demo/data/diabetes.csv"), config)
    model = dataclasses.replace(config, training=dataclasses.replace(
        config.training, tuning=TuningSettings(trials=4), cv_folds=2))
    heard: list[tuple[str, dict[str, Any]]] = []
    # WHEN it trains with a listener
    with progress.listening(lambda kind, detail: heard.append((kind, detail))):
        result = train_best(train, model)
    # THEN every trial was told, in order, against the budget, with the lowest complete RMSE so far as best
    assert [detail["number"] for _, detail in heard] == [trial["number"] for trial in result.trials]
    assert {kind for kind, _ in heard} == {TRIAL} and {d["planned"] for _, d in heard} == {4}
    values = [d["value"] for _, d in heard]
    complete = [trial["value"] for trial in result.trials if trial["state"] == "complete"]
    assert heard[-1][1]["best"] == min(complete)
    first = heard[0][1]  # the best after the first trial is its own value, or none if it did not complete
    assert first["best"] == (values[0] if first["state"] == "complete" else None)


def test_the_display_marks_the_stages_passed_and_the_one_where_the_drop_ended() -> None:
    from sluice.cli.render import stage_lines

    # GIVEN a drop rejected at validation, one stopped by its gate, and one that went live
    rejected, gated, live = _follower(), _follower(), _follower()
    rejected.observe("DatasetRejected", _ours(report_key="r.json", summary="REJECTED: 0 rows"))
    for follower in (gated, live):
        follower.observe("DatasetAccepted", _ours(data_version="dv1", rows=10))
        follower.observe("ModelTrained", _ours(version=2))
    gated.observe("ModelEvaluated", _ours(version=2, approved=False, reasons=["too low"], metrics={"auc": 0.5}))
    live.observe("ModelEvaluated", _ours(version=2, approved=True, metrics={"auc": 0.9}))
    live.observe("ModelDeployed", _ours(version=2))
    # THEN the marks say where each ended: ✘ at the failing stage, nothing after it, ✔ everywhere when live
    assert [mark for mark, _, _ in stage_lines(rejected.state)] == ["✘", " ", " ", " "]
    assert [mark for mark, _, _ in stage_lines(gated.state)] == ["✔", "✔", "✘", " "]
    assert [mark for mark, _, _ in stage_lines(live.state)] == ["✔", "✔", "✔", "✔"]
    assert stage_lines(gated.state)[2][2] == "gate: auc=0.500" and stage_lines(live.state)[3][2] == "live"
