"""rollback_model: on an alarm at any time, abort the release in progress or point ``live`` back.

- mid-release: all traffic back to live, the candidate → rolled_back;
- after a release: live → rolled_back, ``previous`` (always a known-good version, never a rejected one) → live;
- nothing to go back to: a recorded no-op, with a notification;
- an alarm whose state changed before the endpoint last changed is stale (delayed or replayed): ignored;
- so is an alarm whose evaluated data began before the last rollback: it judged the version rolled back
  (a slower alarm of the same incident), not the known-good version now live.
"""

from __future__ import annotations

from typing import Any

from sluice.clock import parse_time
from sluice.deployment import release_lock
from sluice.endpoint import EndpointSwapper
from sluice.events import DetailType
from sluice.registry import Status
from sluice.steps.context import StepContext
from sluice.steps.release import abort_release

ACTOR = "rollback_model"
LOCK_TTL_S = 300


def rollback(ctx: StepContext, model_name: str, *, reason: str, correlation_id: str, trigger: str = "",
             alarm_at: str | None = None, judged_since: str | None = None) -> dict[str, Any]:
    """Roll back one model; ``alarm_at`` (the alarm's state timestamp) and ``judged_since`` (the start of the
    data it evaluated, see sluice.events.alarms) let stale alarms be recognised."""
    ctx.config.model(model_name)
    if alarm_at is not None:
        stale = _stale(ctx, model_name, alarm_at, judged_since)
        if stale is not None and trigger:
            replayed = _announce_again(ctx, model_name, trigger=trigger, correlation_id=correlation_id)
            if replayed is not None:
                return replayed
        if stale is not None:
            ctx.registry.note(model_name, subject="endpoint", change="alarm ignored", reason=stale, actor=ACTOR,
                              correlation_id=correlation_id, trigger=trigger)
            return {"outcome": "ignored", "model": model_name, "reason": stale}
    active = ctx.registry.get_deployment(model_name)
    if active is not None:
        abort_release(ctx, active, to=Status.ROLLED_BACK, reason=reason, actor=ACTOR, trigger=trigger)
        return {"outcome": "aborted", "model": model_name, "from_version": active.version,
                "to_version": active.live_version, "lambda_version": active.live_lambda_version, "reason": reason}
    live = ctx.registry.get_alias(model_name, "live")
    previous = ctx.registry.get_alias(model_name, "previous")
    if live is None or previous is None:
        why = "no model is live" if live is None else f"v{live.version} has no previous good version"
        ctx.registry.note(model_name, subject=f"v{live.version}" if live else "endpoint", change="rollback skipped",
                          reason=f"{why} ({reason})", actor=ACTOR, correlation_id=correlation_id, trigger=trigger)
        skipped = {"model": model_name, "reason": why, "trigger": reason, "correlation_id": correlation_id}
        ctx.events.publish(DetailType.ROLLBACK_SKIPPED, skipped)
        _notify(ctx, f"{model_name}: alarm, but nothing to roll back to", skipped)
        return {"outcome": "skipped", "model": model_name, "reason": why}
    target = ctx.registry.get_version(model_name, previous.version)
    owner = f"{ACTOR}:{model_name}:{correlation_id}"
    with release_lock(ctx.registry, model_name, owner=owner, ttl_s=LOCK_TTL_S):
        EndpointSwapper(ctx.lambda_client, ctx.settings.names.predict_function(model_name)).move_live(
            target.lambda_version)
        rolled_back, now_live = ctx.registry.rollback(model_name, reason=reason, actor=ACTOR,
                                                      correlation_id=correlation_id, trigger=trigger)
    detail: dict[str, Any] = {"model": model_name, "version": now_live.version,
              "rolled_back_version": rolled_back.version,
              "lambda_version": now_live.lambda_version, "reason": reason, "correlation_id": correlation_id}
    ctx.events.publish(DetailType.MODEL_ROLLED_BACK, detail)
    _notify(ctx, f"{model_name} rolled back: v{rolled_back.version} → v{now_live.version}", detail)
    return {"outcome": "rolled_back", "model": model_name, "from_version": rolled_back.version,
            "to_version": now_live.version, "lambda_version": now_live.lambda_version, "reason": reason}


def _announce_again(ctx: StepContext, model_name: str, *, trigger: str, correlation_id: str
                    ) -> dict[str, Any] | None:
    """A rerun of an alarm that already changed the endpoint (the run died before announcing it): announce it
    again from the audit trail instead of ignoring the alarm as stale."""
    mine = [entry for entry in ctx.registry.history(model_name) if entry.trigger == trigger and entry.actor == ACTOR]
    changes = {entry.change: int(entry.subject.removeprefix("v")) for entry in mine if entry.subject.startswith("v")}
    live = ctx.registry.get_alias(model_name, "live")
    if "live → rolled_back" in changes and "previous → live" in changes:
        now_live = ctx.registry.get_version(model_name, changes["previous → live"])
        detail: dict[str, Any] = {"model": model_name, "version": now_live.version,
                                  "rolled_back_version": changes["live → rolled_back"],
                                  "lambda_version": now_live.lambda_version, "reason": mine[0].reason,
                                  "correlation_id": correlation_id, "announced_again": True}
        ctx.events.publish(DetailType.MODEL_ROLLED_BACK, detail)
        return {"outcome": "rolled_back", "model": model_name, "from_version": detail["rolled_back_version"],
                "to_version": now_live.version, "lambda_version": now_live.lambda_version,
                "reason": mine[0].reason, "announced_again": True}
    if "canary → rolled_back" in changes:
        aborted = changes["canary → rolled_back"]
        detail = {"model": model_name, "version": aborted, "status": Status.ROLLED_BACK.value,
                  "live_version": live.version if live else None,
                  "lambda_version": live.lambda_version if live else None, "reason": mine[0].reason,
                  "correlation_id": correlation_id, "announced_again": True}
        ctx.events.publish(DetailType.DEPLOYMENT_ABORTED, detail)
        return {"outcome": "aborted", "model": model_name, "from_version": aborted,
                "to_version": detail["live_version"], "lambda_version": detail["lambda_version"],
                "reason": mine[0].reason, "announced_again": True}
    return None


def _stale(ctx: StepContext, model_name: str, alarm_at: str, judged_since: str | None) -> str | None:
    """Why an alarm judged traffic that is no longer served, if it did."""
    change = ctx.registry.last_endpoint_change(model_name)
    if change is None:
        return None
    changed_s = int(parse_time(change.at) * 1000) / 1000  # alarm timestamps carry milliseconds
    if parse_time(alarm_at) < changed_s:
        return f"stale alarm: its state changed at {alarm_at}, before the endpoint last changed at {change.at}"
    if change.rolled_back and judged_since is not None and parse_time(judged_since) < changed_s:
        return (f"stale alarm: it judged data from {judged_since} on, before the rollback at {change.at} (the "
                "version rolled back, not the known-good version now live)")
    return None


def _notify(ctx: StepContext, subject: str, detail: dict[str, Any]) -> None:
    if ctx.notifier is not None:
        ctx.notifier.notify(subject, detail)
