"""The demo's manual approval: the second model is configured ``approval = "manual"``, its first version waits,
a reviewer approves it with a reason, and it goes live."""

from __future__ import annotations

import json
import tomllib
import uuid
from pathlib import Path
from typing import Any

import boto3

from sluice.config import load_config
from sluice.events import DetailType
from sluice.local import LocalCloud
from sluice.registry import DynamoDBRegistry, Status

APPROVAL_LINE = 'approval = "manual"'
REASON = "card reviewed: r2 and rmse on the holdout are acceptable for the pilot"


def with_manual_approval(config_path: Path, model: str, workdir: Path) -> Path:
    """A copy of the configuration in ``workdir`` where ``model`` releases only after a manual approval (the
    shipped sluice.toml releases it at once; the demo shows the gate on it)."""
    load_config(config_path)  # an unreadable or invalid configuration is refused as by every command
    text = config_path.read_text(encoding="utf-8")
    deployment = tomllib.loads(text).get("models", {}).get(model, {}).get("deployment")
    header = f"[models.{model}.deployment]"
    if deployment is None:
        text += f"\n{header}\n{APPROVAL_LINE}\n"
    elif "approval" not in deployment:
        text = text.replace(f"{header}\n", f"{header}\n{APPROVAL_LINE}\n", 1)
    copy = workdir / "sluice.toml"
    copy.write_text(text, encoding="utf-8")
    return copy


def approve_waiting_version(cloud: LocalCloud, reporter: Any, registry: DynamoDBRegistry, check: Any, *,
                            model: str, step: int) -> None:
    """The version of ``model`` waiting for approval is shown, approved with a reason, and goes live."""
    reporter.step(step, f"{model} is configured approval = \"manual\": its version 1 passed the gate and waits "
                        "for a reviewer")
    waiting = [v for v in registry.list_versions(model) if v.status is Status.PENDING_APPROVAL]
    requested = [entry.detail for entry in cloud.timeline
                 if entry.kind == "notify" and entry.detail.get("model") == model and "model_card" in entry.detail]
    check(len(waiting) == 1 and registry.get_alias(model, "live") is None and bool(requested),
          f"{model} v1 waits in pending_approval, nothing of it is live, and the notification carried its model "
          "card's link and metrics")
    if not waiting:
        return
    version = waiting[0].version
    card = requested[-1]["model_card"]
    reporter.info(f"notification: model card {card['s3_uri']} (console: {card['console_url'][:80]}…), "
                  f"metrics {json.dumps(requested[-1]['candidate']['metrics'], sort_keys=True)[:120]}")
    sts = boto3.client("sts", region_name=cloud.clients.s3.meta.region_name)
    actor = str(sts.get_caller_identity()["Arn"])
    reporter.info(f"{actor} approves: `sluice approve {model} {version} --reason \"{REASON}\"` (automation puts "
                  "the same ApprovalDecided event on the bus)")
    cloud.clients.events.put_events(Entries=[{
        "Source": "sluice", "DetailType": DetailType.APPROVAL_DECIDED.value, "EventBusName": cloud.settings.event_bus,
        "Detail": json.dumps({"model": model, "version": version, "decision": "approve", "reason": REASON,
                              "actor": actor, "correlation_id": f"demo-approval-{uuid.uuid4().hex[:8]}"})}])
    cloud.run_until_idle()
    live = registry.get_alias(model, "live")
    decided = [e for e in registry.history(model) if e.change == "pending_approval → approved"]
    check(live is not None and live.version == version and bool(decided) and decided[-1].actor == actor
          and decided[-1].reason == REASON,
          f"approved by {actor} with a reason (in the audit trail), {model} v{version} is live")
