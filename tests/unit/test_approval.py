"""The manual approval gate without AWS: configuration, the state machine, the request's content, and deploy's
registry side on the in-memory registry (waiting, superseding, deciding, refusing, expiring, queueing)."""

from __future__ import annotations

from typing import Any

import pytest

from sluice.config import ConfigError, load_config_text
from sluice.config.deployment import DeploymentSettings, parse_deployment
from sluice.config.reader import Table
from sluice.deployment.approval import (
    ApprovalDecision,
    ApprovalRefusedError,
    approval_request,
    console_url,
)
from sluice.events import DetailType
from sluice.notifications import Notifier
from sluice.registry import Deployment, IllegalTransitionError, InMemoryRegistry, ModelVersion, Status
from sluice.registry.transitions import check_transition
from sluice.settings import Settings
from sluice.steps.context import StepContext
from sluice.steps.deploy import check_releases, decide_approval, deploy_version
from sluice.storage import ObjectStore
from tests.unit.growth_stack import MODEL, START, RecordingPublisher, config_text

MANUAL = f"\n[models.{MODEL}.deployment]\napproval = \"manual\"\napproval_expires_after_hours = 24\n"
HOUR = 3600.0


class RecordingNotifier(Notifier):
    """Keeps every notification instead of publishing it."""

    def __init__(self) -> None:
        super().__init__(None, "arn:aws:sns:eu-west-1:123456789012:sluice-notifications")
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def notify(self, subject: str, detail: dict[str, Any]) -> str | None:
        self.sent.append((subject, detail))
        return str(len(self.sent))


class Stack:
    """deploy's step context on the in-memory registry, with a clock the test moves."""

    def __init__(self, config: str = config_text() + MANUAL) -> None:
        self.now = START
        self.registry = InMemoryRegistry(clock=lambda: self.now)
        self.events = RecordingPublisher()
        self.notifier = RecordingNotifier()
        settings = Settings(prefix="sluice", data_bucket="data", artifact_bucket="artifacts",
                            registry_table="registry", idempotency_table="idempotency", event_bus="bus",
                            code_version="test")
        self.ctx = StepContext(settings=settings, config=load_config_text(config), data=ObjectStore(None, "data"),
                               artifacts=ObjectStore(None, "artifacts"), registry=self.registry, events=self.events,
                               clock=lambda: self.now)
        self.ctx.__dict__["notifier"] = self.notifier  # the cached client, replaced before first use

    def approved(self, metrics: dict[str, float] | None = None) -> int:
        """A version the evaluation gate approved."""
        version = self.registry.claim_version(MODEL, data_version="d", code_version="c", lineage={}, actor="t",
                                              correlation_id="c").version
        self.registry.transition(MODEL, version, to=Status.CANDIDATE, reason="trained", actor="t",
                                 correlation_id="c",
                                 fields={"metrics": metrics or {"roc_auc": 0.91},
                                         "live_metrics": {"roc_auc": 0.88}})
        self.registry.transition(MODEL, version, to=Status.APPROVED, reason="gate", actor="t", correlation_id="c")
        return version

    def status(self, version: int) -> Status:
        return self.registry.get_version(MODEL, version).status

    def decision(self, version: int, decision: str = "approve", correlation_id: str = "d1") -> ApprovalDecision:
        return ApprovalDecision.parse({"decision": decision, "reason": "reviewed the card",
                                       "actor": "arn:aws:iam::123456789012:user/ana"},
                                      model=MODEL, version=version, correlation_id=correlation_id)

    def in_release(self) -> Deployment:
        """Another version in release (the model's release lock)."""
        live = self.approved()
        self.registry.promote(MODEL, live, lambda_version="1", reason="r", actor="t", correlation_id="c")
        releasing = self.approved()
        self.registry.transition(MODEL, releasing, to=Status.PENDING_APPROVAL, reason="r", actor="t",
                                 correlation_id="c")
        self.registry.transition(MODEL, releasing, to=Status.APPROVED, reason="r", actor="t", correlation_id="c",
                                 fields={"approval": {"decision": "approve"}})
        return self.registry.start_deployment(Deployment(
            model=MODEL, version=releasing, strategy="canary", stage=0, stages=2, weight=0.1,
            started_at="2027-01-15T08:00:00.000000Z", stage_started_at="2027-01-15T08:00:00.000000Z",
            next_check_at="2099-01-15T08:10:00.000000Z", candidate_lambda_version="2", live_version=live,
            live_lambda_version="1", correlation_id="c"), reason="canary", actor="t")


def _parse(body: dict[str, Any]) -> DeploymentSettings:
    return parse_deployment(Table(body, "[models.m.deployment]", "sluice.toml"))


def test_approval_is_configured_per_model_strictly() -> None:
    # GIVEN deployment tables with and without an approval
    # THEN none is the default, manual is read with its expiry, and mistakes are refused naming the key
    assert _parse({}).approval == "none" and _parse({}).approval_expires_after_hours == 168.0
    manual = _parse({"approval": "manual", "approval_expires_after_hours": 48})
    assert manual.approval == "manual" and manual.approval_expires_after_hours == 48.0
    for body, message in (({"approval": "auto"}, r"approval: must be one of 'none', 'manual'"),
                          ({"approval": True}, r"approval: must be a string"),
                          ({"approval_expires_after_hours": 0}, "approval_expires_after_hours must be positive"),
                          ({"approval_expires_after_hours": 24 * 91}, "at most 2160"),
                          ({"approval_expires_after_hours": "7d"}, "approval_expires_after_hours"),
                          ({"approval_expires": 24}, "approval_expires")):
        with pytest.raises(ConfigError, match=message):
            _parse(body)


def test_the_state_machine_sends_a_waiting_version_only_to_a_decision() -> None:
    # GIVEN the declared transitions
    # THEN an approved version may wait; a waiting one is approved, rejected or retired, and never served directly
    check_transition(Status.APPROVED, Status.PENDING_APPROVAL)
    for decided in (Status.APPROVED, Status.REJECTED, Status.RETIRED):
        check_transition(Status.PENDING_APPROVAL, decided)
    for skipped in (Status.LIVE, Status.CANARY, Status.PREVIOUS):
        with pytest.raises(IllegalTransitionError, match="pending_approval → "):
            check_transition(Status.PENDING_APPROVAL, skipped)


def test_a_decision_must_say_what_why_and_who() -> None:
    for detail, message in (({"decision": "maybe", "reason": "r", "actor": "a"}, "decision must be one of"),
                            ({"decision": "approve", "reason": " ", "actor": "a"}, "non-empty reason"),
                            ({"decision": "reject", "reason": "r"}, "non-empty actor")):
        with pytest.raises(ApprovalRefusedError, match=message):
            ApprovalDecision.parse(detail, model=MODEL, version=1, correlation_id="c")


def test_the_request_carries_the_cards_links_and_the_comparison_with_live() -> None:
    # GIVEN a waiting candidate evaluated against live v1 on the same holdout
    candidate = ModelVersion(model=MODEL, version=2, status=Status.PENDING_APPROVAL, data_version="d",
                             code_version="c", created_at="t", updated_at="t", family="random_forest",
                             metrics={"roc_auc": 0.93, "log_loss": 0.2}, live_metrics={"roc_auc": 0.9},
                             gate_reasons=("roc_auc 0.93 vs live 0.90",),
                             approval={"expires_at": "2027-01-16T08:00:00.000000Z"})
    live = ModelVersion(model=MODEL, version=1, status=Status.LIVE, data_version="d", code_version="c",
                        created_at="t", updated_at="t", family="logistic_regression")
    # WHEN the request is built
    request = approval_request(candidate, live, bucket="art", card_key="models/churn/000002/model_card.html",
                               region="eu-west-1")
    # THEN it links the card, compares both versions on the gate's metrics and says how to decide
    assert request["model_card"]["s3_uri"] == "s3://art/models/churn/000002/model_card.html"
    assert request["model_card"]["console_url"] == (
        "https://s3.console.aws.amazon.com/s3/object/art?region=eu-west-1&prefix=models/churn/000002/model_card.html")
    assert request["candidate"]["metrics"] == {"roc_auc": 0.93, "log_loss": 0.2}
    assert request["live"] == {"version": 1, "family": "logistic_regression", "metrics": {"roc_auc": 0.9}}
    assert request["deltas"] == {"roc_auc": pytest.approx(0.03)}
    assert request["gate_reasons"] == ["roc_auc 0.93 vs live 0.90"]
    assert request["commands"]["approve"] == f'sluice approve {MODEL} 2 --reason "..."'
    assert approval_request(candidate, None, bucket="b", card_key="k", region="")["live"] is None
    assert console_url("b", "a key", "") == "https://s3.console.aws.amazon.com/s3/object/b?prefix=a%20key"


def test_a_gate_approved_version_waits_and_asks_once_per_delivery() -> None:
    # GIVEN a model with approval = manual and a version the gate approved
    stack = Stack()
    version = stack.approved()
    # WHEN deploy_model receives it
    result = deploy_version(stack.ctx, MODEL, version, correlation_id="e1", trigger="ModelEvaluated e1")
    # THEN it waits for approval until its expiry, audited, announced and notified with the card's link
    assert result["outcome"] == "pending_approval"
    waiting = stack.registry.get_version(MODEL, version)
    assert waiting.status is Status.PENDING_APPROVAL
    assert waiting.approval["expires_at"].startswith("2027-01-16T08:00:00")  # START + 24 h
    entry = stack.registry.history(MODEL)[-1]
    assert (entry.change, entry.trigger) == ("approved → pending_approval", "ModelEvaluated e1")
    (requested,) = stack.events.of(DetailType.APPROVAL_REQUESTED)
    assert requested["model_card"]["key"].endswith(f"{version:06d}/model_card.html")
    assert requested["deltas"] == {"roc_auc": pytest.approx(0.03)}
    assert [subject for subject, _ in stack.notifier.sent] == [f"{MODEL} v{version} waits for approval"]
    assert stack.notifier.sent[0][1]["model_card"]["console_url"].startswith("https://s3.console.aws.amazon.com/")


def test_a_newer_candidate_supersedes_an_older_waiting_one() -> None:
    # GIVEN v1 waiting for approval
    stack = Stack()
    first = stack.approved()
    deploy_version(stack.ctx, MODEL, first, correlation_id="e1")
    # WHEN v2 passes the gate
    second = stack.approved()
    deploy_version(stack.ctx, MODEL, second, correlation_id="e2")
    # THEN only v2 waits; v1 is retired with the reason
    assert (stack.status(first), stack.status(second)) == (Status.RETIRED, Status.PENDING_APPROVAL)
    assert any(e.subject == f"v{first}" and e.reason == f"superseded by v{second} while waiting for approval"
               for e in stack.registry.history(MODEL))


def test_a_rejection_is_final_and_recorded_with_who_and_why() -> None:
    # GIVEN a waiting version
    stack = Stack()
    version = stack.approved()
    deploy_version(stack.ctx, MODEL, version, correlation_id="e1")
    # WHEN a reviewer rejects it
    result = decide_approval(stack.ctx, stack.decision(version, "reject"), trigger="sluice reject")
    # THEN it is rejected (never served), the audit says who and why, and a second decision is refused
    assert result["outcome"] == "rejected" and stack.status(version) is Status.REJECTED
    entry = stack.registry.history(MODEL)[-1]
    assert (entry.change, entry.actor, entry.reason) == (
        "pending_approval → rejected", "arn:aws:iam::123456789012:user/ana", "reviewed the card")
    assert stack.registry.get_version(MODEL, version).approval["decision"] == "reject"
    with pytest.raises(ApprovalRefusedError, match=r"is rejected, not pending approval \(rejected by arn:"):
        decide_approval(stack.ctx, stack.decision(version, "approve", correlation_id="d2"), trigger="t")


def test_deciding_a_version_that_does_not_wait_is_refused() -> None:
    stack = Stack()
    version = stack.approved()  # approved by the gate, never sent to deploy: not waiting
    with pytest.raises(ApprovalRefusedError, match=r"v1 is approved, not pending approval$"):
        decide_approval(stack.ctx, stack.decision(version), trigger="t")
    with pytest.raises(ApprovalRefusedError, match="v9 does not exist"):
        decide_approval(stack.ctx, stack.decision(9), trigger="t")
    assert stack.status(version) is Status.APPROVED


def test_an_approval_behind_a_release_in_progress_queues_and_a_rerun_acts_once() -> None:
    # GIVEN a release in progress and a newer version waiting for approval
    stack = Stack()
    active = stack.in_release()
    waiting = stack.approved()
    deploy_version(stack.ctx, MODEL, waiting, correlation_id="e3")
    assert stack.status(waiting) is Status.PENDING_APPROVAL
    # WHEN it is approved, and the same decision runs again (a rerun after a crash)
    first = decide_approval(stack.ctx, stack.decision(waiting), trigger="ApprovalDecided x")
    again = decide_approval(stack.ctx, stack.decision(waiting), trigger="ApprovalDecided x")
    # THEN it queues behind the release like any approved version, once, and is approved by the reviewer
    assert first["outcome"] == again["outcome"] == "queued" and f"v{active.version}" in first["reason"]
    assert first["approved_by"] == "arn:aws:iam::123456789012:user/ana"
    assert [q.version for q in stack.registry.queued_deployments(MODEL)] == [waiting]
    assert len(stack.events.of(DetailType.DEPLOYMENT_QUEUED)) == 1
    assert [e.change for e in stack.registry.history(MODEL)].count("pending_approval → approved") == 2  # + active
    assert stack.status(waiting) is Status.APPROVED


def test_the_deployment_check_retires_a_version_whose_approval_expired() -> None:
    # GIVEN a version waiting with a 24 h expiry
    stack = Stack()
    version = stack.approved()
    deploy_version(stack.ctx, MODEL, version, correlation_id="e1")
    # WHEN the check runs before the expiry THEN nothing changes
    stack.now += 23 * HOUR
    assert check_releases(stack.ctx, (MODEL,), correlation_id="s1", trigger="Scheduled Event s1")["releases"] == []
    assert stack.status(version) is Status.PENDING_APPROVAL
    # WHEN it runs after the expiry
    stack.now += 2 * HOUR
    checked = check_releases(stack.ctx, (MODEL,), correlation_id="s2", trigger="Scheduled Event s2")
    # THEN the version is retired with the reason "approval expired", announced, and cannot be approved any more
    assert checked["releases"] == [{"outcome": "approval_expired", "model": MODEL, "version": version}]
    assert stack.status(version) is Status.RETIRED
    entry = stack.registry.history(MODEL)[-1]
    assert (entry.change, entry.reason, entry.trigger) == (
        "pending_approval → retired", "approval expired", "Scheduled Event s2")
    assert [e["version"] for e in stack.events.of(DetailType.APPROVAL_EXPIRED)] == [version]
    with pytest.raises(ApprovalRefusedError, match="is retired, not pending approval"):
        decide_approval(stack.ctx, stack.decision(version), trigger="t")


def test_without_manual_approval_nothing_waits() -> None:
    # GIVEN the default (approval = none) and a release in progress
    stack = Stack(config_text())
    stack.in_release()
    version = stack.approved()
    # WHEN a gate-approved version arrives THEN it goes on as before (queued behind the release), asking nobody
    assert deploy_version(stack.ctx, MODEL, version, correlation_id="e")["outcome"] == "queued"
    assert stack.events.of(DetailType.APPROVAL_REQUESTED) == [] and stack.notifier.sent == []
