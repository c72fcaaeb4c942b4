"""Plain documents (the registry's stored fields) as entities: shared by every backend."""

from __future__ import annotations

import json
from typing import Any

from sluice.registry.entities import (
    AliasPointer,
    AuditEntry,
    DatasetRecord,
    Deployment,
    Lease,
    ModelVersion,
    QueuedDeployment,
    Status,
)


def stored(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` as a store keeps it: plain JSON values, top-level None fields left out."""
    plain: dict[str, Any] = json.loads(json.dumps(document, default=str))
    return {key: value for key, value in plain.items() if value is not None}


def version_from(document: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        model=document["model"],
        version=int(document["version"]),
        status=Status(document["status"]),
        data_version=document.get("data_version", ""),
        code_version=document.get("code_version", ""),
        created_at=document["created_at"],
        updated_at=document["updated_at"],
        family=document.get("family", ""),
        params=document.get("params", {}),
        cv=document.get("cv", {}),
        metrics={k: float(v) for k, v in document.get("metrics", {}).items()},
        live_metrics={k: float(v) for k, v in document.get("live_metrics", {}).items()},
        gate_reasons=tuple(document.get("gate_reasons", ())),
        artifact_prefix=document.get("artifact_prefix", ""),
        artifact_sha256=document.get("artifact_sha256", ""),
        pipeline_sha256=document.get("pipeline_sha256", ""),
        serving=document.get("serving", "onnx"),
        lineage=document.get("lineage", {}),
        lambda_version=document.get("lambda_version", ""),
        replaced_version=document.get("replaced_version"),
        approval=document.get("approval", {}),
    )


def alias_from(document: dict[str, Any]) -> AliasPointer:
    return AliasPointer(
        model=document["model"],
        name=document["name"],
        version=int(document["version"]),
        lambda_version=str(document.get("lambda_version", "")),
        revision=int(document["revision"]),
        updated_at=document["updated_at"],
    )


def audit_from(document: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        model=document["model"],
        at=document["at"],
        subject=document["subject"],
        change=document["change"],
        reason=document.get("reason", ""),
        actor=document.get("actor", ""),
        correlation_id=document.get("correlation_id", ""),
        trigger=document.get("trigger", ""),
    )


def deployment_from(document: dict[str, Any]) -> Deployment:
    return Deployment(
        model=document["model"], version=int(document["version"]), strategy=document["strategy"],
        stage=int(document["stage"]), stages=int(document["stages"]), weight=float(document["weight"]),
        started_at=document["started_at"], stage_started_at=document["stage_started_at"],
        next_check_at=document["next_check_at"],
        candidate_lambda_version=str(document["candidate_lambda_version"]),
        live_version=int(document["live_version"]), live_lambda_version=str(document["live_lambda_version"]),
        correlation_id=document.get("correlation_id", ""), revision=int(document["revision"]),
        extensions=int(document.get("extensions", 0)),
    )


def queued_from(document: dict[str, Any]) -> QueuedDeployment:
    return QueuedDeployment(model=document["model"], version=int(document["version"]),
                            correlation_id=document.get("correlation_id", ""), queued_at=document["queued_at"])


def dataset_from(document: dict[str, Any]) -> DatasetRecord:
    return DatasetRecord(
        model=document["model"],
        data_version=document["data_version"],
        rows=int(document["rows"]),
        data_key=document["data_key"],
        sources=tuple(document.get("sources", ())),
        accepted_at=document["accepted_at"],
        contract_version=str(document.get("contract_version", "")),
        origin=str(document.get("origin", "drop")),
    )


def lease_from(document: dict[str, Any], *, model: str, name: str) -> Lease:
    return Lease(
        model=model, name=name, owner=str(document.get("owner", "")),
        lease_until=int(document.get("lease_until", 0)), cooldown_until=int(document.get("cooldown_until", 0)),
        trigger=str(document.get("trigger", "")), acquired_at=str(document.get("acquired_at", "")),
        released_at=str(document.get("released_at", "")),
    )
