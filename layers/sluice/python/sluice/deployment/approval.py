"""The manual approval gate, as pure decisions: when a pending version expires, what a decision may do, and what
the request for approval tells a human (the card's link and the comparison with live)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import quote

from sluice.clock import iso, parse_time
from sluice.registry.entities import ModelVersion, Status

Decision = Literal["approve", "reject"]
DECISIONS: tuple[str, ...] = get_args(Decision)
DECIDED = {"approve": "approved", "reject": "rejected"}
EXPIRED_REASON = "approval expired"


class ApprovalRefusedError(ValueError):
    """A decision that cannot be applied (the version is not waiting for one, or the decision is malformed)."""


@dataclass(frozen=True)
class ApprovalDecision:
    """A human's (or an automation's) decision on one pending version, and who made it."""

    model: str
    version: int
    decision: Decision
    reason: str
    actor: str
    correlation_id: str

    @classmethod
    def parse(cls, detail: dict[str, Any], *, model: str, version: int, correlation_id: str) -> ApprovalDecision:
        """An ``ApprovalDecided`` detail: ``decision`` approve|reject, a non-empty ``reason`` and ``actor``."""
        decision = detail.get("decision")
        if decision not in DECISIONS:
            raise ApprovalRefusedError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
        reason, actor = detail.get("reason"), detail.get("actor")
        for name, value in (("reason", reason), ("actor", actor)):
            if not isinstance(value, str) or not value.strip():
                raise ApprovalRefusedError(f"an approval decision needs a non-empty {name} (got {value!r})")
        return cls(model=model, version=version, decision=decision, reason=str(reason).strip(),
                   actor=str(actor).strip(), correlation_id=correlation_id)

    @property
    def status(self) -> Status:
        """Where the decision moves the version: approved (released next) or rejected (never served)."""
        return Status.APPROVED if self.decision == "approve" else Status.REJECTED

    def record(self, now: float, pending: dict[str, Any]) -> dict[str, Any]:
        """The version's ``approval`` field once decided (the request's times kept)."""
        return {**pending, "decision": self.decision, "actor": self.actor, "reason": self.reason,
                "decided_at": iso(now), "correlation_id": self.correlation_id}


def needs_approval(version: ModelVersion, approval: str) -> bool:
    """An approved version waits for a human when its model asks for one and nobody has approved it yet."""
    return (approval == "manual" and version.status is Status.APPROVED
            and version.approval.get("decision") != "approve")


def pending_record(now: float, expires_after_hours: float, correlation_id: str) -> dict[str, Any]:
    """The ``approval`` field of a version entering ``pending_approval``."""
    return {"requested_at": iso(now), "expires_at": iso(now + expires_after_hours * 3600),
            "requested_by": correlation_id}


def expired(version: ModelVersion, now: float) -> bool:
    """A pending version whose expiry has passed."""
    expires_at = version.approval.get("expires_at")
    return version.status is Status.PENDING_APPROVAL and bool(expires_at) and parse_time(str(expires_at)) <= now


def superseded(versions: list[ModelVersion], newest: int) -> list[ModelVersion]:
    """The pending versions older than ``newest``: a newer candidate supersedes them (one waits at a time)."""
    return [v for v in versions if v.status is Status.PENDING_APPROVAL and v.version < newest]


def check_decidable(version: ModelVersion, decision: ApprovalDecision) -> bool:
    """True when ``decision`` should be applied; False when it already was (a rerun of the same decision);
    ApprovalRefusedError when the version is not waiting for a decision."""
    if version.status is Status.PENDING_APPROVAL:
        return True
    recorded = version.approval
    if recorded.get("correlation_id") == decision.correlation_id and recorded.get("decision") == decision.decision:
        return False
    decided = (f" ({DECIDED.get(recorded['decision'], recorded['decision'])} by {recorded.get('actor', '?')}: "
               f"{recorded.get('reason', '')})" if recorded.get("decision") else "")
    raise ApprovalRefusedError(f"{version.label} is {version.status.value}, not pending approval{decided}")


def approval_request(candidate: ModelVersion, live: ModelVersion | None, *, bucket: str, card_key: str,
                     region: str) -> dict[str, Any]:
    """What the notification carries: the card's links, both versions' metrics and the gate's deltas."""
    deltas = {name: round(value - candidate.live_metrics[name], 6) for name, value in candidate.metrics.items()
              if name in candidate.live_metrics}
    return {
        "model": candidate.model, "version": candidate.version,
        "expires_at": candidate.approval.get("expires_at"),
        "model_card": {"s3_uri": f"s3://{bucket}/{card_key}", "key": card_key,
                       "console_url": console_url(bucket, card_key, region)},
        "candidate": {"version": candidate.version, "family": candidate.family, "metrics": candidate.metrics},
        "live": ({"version": live.version, "family": live.family, "metrics": candidate.live_metrics}
                 if live is not None else None),
        "deltas": deltas,
        "gate_reasons": list(candidate.gate_reasons),
        "commands": {verb: f"sluice {verb} {candidate.model} {candidate.version} --reason \"...\""
                     for verb in ("approve", "reject")},
    }


def console_url(bucket: str, key: str, region: str) -> str:
    """The S3 console's page of one object (``s3/object/<bucket>?region=…&prefix=<key>``)."""
    region_part = f"region={quote(region, safe='')}&" if region else ""
    return f"https://s3.console.aws.amazon.com/s3/object/{quote(bucket, safe='')}?{region_part}prefix={quote(key)}"
