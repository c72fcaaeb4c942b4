"""The manual approval gate on the local stack: nothing goes live until a human approves; a rejection is final;
waiting versions expire; a waiting version blocks neither rollback nor other models; decisions arrive as events
(delivered twice, acted on once)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from sluice.registry import Status
from tests.integration.releases import (
    MODEL,
    OTHER,
    approved,
    deploy,
    events,
    registry_of,
    traffic,
)

pytestmark = pytest.mark.slow
MANUAL = {"approval": "manual", "approval_expires_after_hours": 2}
REVIEWER = "arn:aws:sts::123456789012:assumed-role/ml-reviewers/ana"


def _decision(version: int, decision: str = "approve", *, model: str = MODEL,
              correlation_id: str | None = None) -> dict[str, Any]:
    return {"model": model, "version": version, "decision": decision, "reason": f"{decision}: card reviewed",
            "actor": REVIEWER, "correlation_id": correlation_id or f"approval-{uuid.uuid4().hex[:8]}"}


def _put(cloud: Any, *details: dict[str, Any]) -> None:
    """Put ApprovalDecided events on the sluice bus (as automation would) and let the stack deliver them."""
    cloud.clients.events.put_events(Entries=[{
        "Source": "sluice", "DetailType": "ApprovalDecided", "Detail": json.dumps(detail),
        "EventBusName": cloud.settings.event_bus} for detail in details])
    cloud.run_until_idle()


def _decided_runs(cloud: Any) -> list[dict[str, Any]]:
    """deploy_model's results for approval decisions, in order."""
    return [entry.detail for entry in cloud.timeline if entry.kind == "invoke" and entry.name == "deploy_model"
            and ("approved_by" in entry.detail or entry.detail.get("outcome") in ("rejected", "error"))]


def _waiting(cloud: Any, trained: Any, model: str = MODEL) -> int:
    """A version the evaluation gate approved, delivered to deploy_model: it waits for approval."""
    version = approved(cloud, trained[model])
    assert deploy(cloud, model, version)["outcome"] == "pending_approval"
    return version


def _live_by_approval(cloud: Any, trained: Any) -> int:
    version = _waiting(cloud, trained)
    _put(cloud, _decision(version))
    assert registry_of(cloud).get_alias(MODEL, "live").version == version  # type: ignore[union-attr]
    return version


def test_nothing_goes_live_until_a_human_approves(stack: Any, trained: Any) -> None:
    # GIVEN breast-cancer with approval = manual, diabetes without
    cloud = stack(breast_cancer=MANUAL)
    registry = registry_of(cloud)
    # WHEN the gate approves v1 of each
    v1 = _waiting(cloud, trained)
    other = approved(cloud, trained[OTHER])
    assert deploy(cloud, OTHER, other)["outcome"] == "deployed"
    # THEN breast-cancer v1 waits (its endpoint has nothing live) while diabetes went live
    assert registry.get_version(MODEL, v1).status is Status.PENDING_APPROVAL
    assert registry.get_alias(MODEL, "live") is None
    assert traffic(cloud, MODEL, 2) == {"HTTP 503": 2}
    assert traffic(cloud, OTHER, 2).keys() == {str(other)}
    # AND people were asked, with the card's link and the comparison with live
    (notice,) = events(cloud, f"{MODEL} v{v1} waits for approval", kind="notify")
    assert notice["model_card"]["s3_uri"] == (
        f"s3://{cloud.settings.artifact_bucket}/models/{MODEL}/{v1:06d}/model_card.html")
    assert notice["model_card"]["console_url"].startswith(
        f"https://s3.console.aws.amazon.com/s3/object/{cloud.settings.artifact_bucket}?")
    assert notice["candidate"]["metrics"] and notice["live"] is None and notice["expires_at"]
    assert len(events(cloud, "ApprovalRequested")) == 1
    # WHEN a reviewer approves it
    _put(cloud, _decision(v1))
    # THEN it is released (all at once) and serves; the audit trail says who approved it and why
    assert registry.get_version(MODEL, v1).status is Status.LIVE
    assert traffic(cloud, MODEL, 3).keys() == {str(v1)}
    entry = next(e for e in registry.history(MODEL) if e.change == "pending_approval → approved")
    assert (entry.actor, entry.reason) == (REVIEWER, "approve: card reviewed")
    assert entry.trigger.startswith("ApprovalDecided ")
    # WHEN v2 passes the gate THEN it waits too, comparing itself with live v1, and v1 keeps serving
    v2 = _waiting(cloud, trained)
    notice = events(cloud, f"{MODEL} v{v2} waits for approval", kind="notify")[0]
    assert notice["live"]["version"] == v1 and set(notice["deltas"]) <= set(notice["candidate"]["metrics"])
    assert traffic(cloud, MODEL, 3).keys() == {str(v1)}


def test_a_rejected_version_is_never_served(stack: Any, trained: Any) -> None:
    # GIVEN v1 live and v2 waiting
    cloud = stack(breast_cancer=MANUAL)
    registry = registry_of(cloud)
    v1 = _live_by_approval(cloud, trained)
    v2 = _waiting(cloud, trained)
    # WHEN a reviewer rejects v2
    _put(cloud, _decision(v2, "reject"))
    # THEN v2 is rejected for good, live stays v1, and no later check starts it
    assert registry.get_version(MODEL, v2).status is Status.REJECTED
    assert registry.get_alias(MODEL, "live").version == v1  # type: ignore[union-attr]
    cloud.advance(5)
    cloud.fire_release_checks()
    cloud.run_until_idle()
    assert traffic(cloud, MODEL, 3).keys() == {str(v1)}
    assert any(e.subject == f"v{v2}" and e.change == "pending_approval → rejected" and e.actor == REVIEWER
               for e in registry.history(MODEL))
    assert events(cloud, f"{MODEL} v{v2} rejected by a reviewer", kind="notify")


def test_a_waiting_version_expires_and_is_retired(stack: Any, trained: Any) -> None:
    # GIVEN v1 live and v2 waiting, with a 2 hour expiry
    cloud = stack(breast_cancer=MANUAL)
    registry = registry_of(cloud)
    v1 = _live_by_approval(cloud, trained)
    v2 = _waiting(cloud, trained)
    # WHEN the deployment check runs within the 2 hours THEN v2 still waits
    cloud.advance(119)
    cloud.fire_release_checks()
    assert registry.get_version(MODEL, v2).status is Status.PENDING_APPROVAL
    # WHEN it runs after them
    cloud.advance(2)
    cloud.fire_release_checks()
    cloud.run_until_idle()
    # THEN v2 is retired with the reason "approval expired", and approving it now is refused
    assert registry.get_version(MODEL, v2).status is Status.RETIRED
    entry = next(e for e in registry.history(MODEL) if e.subject == f"v{v2}" and e.change.endswith("→ retired"))
    assert (entry.change, entry.reason) == ("pending_approval → retired", "approval expired")
    assert [e["version"] for e in events(cloud, "ApprovalExpired")] == [v2]
    _put(cloud, _decision(v2))
    refused = _decided_runs(cloud)[-1]
    assert refused["outcome"] == "error" and "is retired, not pending approval" in refused["error"]
    assert registry.get_alias(MODEL, "live").version == v1  # type: ignore[union-attr]


def test_rollback_is_not_blocked_by_a_version_waiting_for_approval(stack: Any, trained: Any) -> None:
    # GIVEN v1 then v2 live (v1 previous) and v3 waiting for approval
    cloud = stack(breast_cancer=MANUAL)
    registry = registry_of(cloud)
    v1 = _live_by_approval(cloud, trained)
    v2 = _live_by_approval(cloud, trained)
    v3 = _waiting(cloud, trained)
    cloud.advance(5)
    # WHEN the endpoint's error alarm goes to ALARM
    cloud.set_alarm(MODEL, "errors")
    cloud.run_until_idle()
    # THEN live rolls back to v1 at once, and v3 keeps waiting
    assert registry.get_alias(MODEL, "live").version == v1  # type: ignore[union-attr]
    assert registry.get_version(MODEL, v2).status is Status.ROLLED_BACK
    assert registry.get_version(MODEL, v3).status is Status.PENDING_APPROVAL
    assert traffic(cloud, MODEL, 3).keys() == {str(v1)}
    # AND approving v3 afterwards releases it over v1
    _put(cloud, _decision(v3))
    assert registry.get_alias(MODEL, "live").version == v3  # type: ignore[union-attr]


def test_an_approval_delivered_twice_acts_once_and_a_second_decision_is_refused(stack: Any, trained: Any) -> None:
    # GIVEN v1 waiting for approval
    cloud = stack(breast_cancer=MANUAL)
    registry = registry_of(cloud)
    v1 = _waiting(cloud, trained)
    # WHEN the same ApprovalDecided event arrives twice (at-least-once delivery)
    decision = _decision(v1)
    _put(cloud, decision, dict(decision))
    # THEN v1 was approved and released once
    assert registry.get_version(MODEL, v1).status is Status.LIVE
    assert [e.change for e in registry.history(MODEL)].count("pending_approval → approved") == 1
    assert len(events(cloud, "ModelDeployed")) == 1
    # WHEN another decision on the same version arrives (a rejection after the fact)
    _put(cloud, _decision(v1, "reject"))
    # THEN it is refused in one line, parked in deploy_model's dead-letter queue, and v1 stays live
    refused = _decided_runs(cloud)[-1]
    assert refused["outcome"] == "error" and "\n" not in refused["error"]
    assert f"{MODEL} v{v1} is live, not pending approval (approved by {REVIEWER}" in refused["error"]
    queue = cloud.provisioned.dead_letter_queues["deploy_model"]
    parked = cloud.clients.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    assert len(parked) == 1 and "not pending approval" in parked[0]["Body"]
    assert registry.get_version(MODEL, v1).status is Status.LIVE
