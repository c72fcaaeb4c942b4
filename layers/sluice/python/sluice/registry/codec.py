"""Convert between registry entities and DynamoDB items."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from sluice.registry.entities import (
    AliasPointer,
    AuditEntry,
    DatasetRecord,
    Deployment,
    ModelVersion,
    QueuedDeployment,
    Status,
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def model_pk(model: str) -> str:
    return f"MODEL#{model}"


def version_sk(version: int) -> str:
    return f"VERSION#{version:06d}"


def alias_sk(name: str) -> str:
    return f"ALIAS#{name}"


def dataset_sk(data_version: str) -> str:
    return f"DATASET#{data_version}"


LATEST_DATASET_SK = "DATASET_LATEST"
DEPLOY_LOCK_SK = "LOCK#deploy"
ACTIVE_DEPLOYMENT_SK = "DEPLOYMENT#active"
ENDPOINT_CHANGED_SK = "ENDPOINT#changed"
QUEUED_DEPLOYMENT_PREFIX = "DEPLOYMENT#queued#"


def queued_deployment_sk(version: int) -> str:
    return f"{QUEUED_DEPLOYMENT_PREFIX}{version:06d}"

AUDIT_PREFIX = "AUDIT#"
VERSION_PREFIX = "VERSION#"


def to_item(document: dict[str, Any]) -> dict[str, Any]:
    """A plain document (floats allowed) as a typed DynamoDB item."""
    clean = json.loads(json.dumps(document, default=str), parse_float=Decimal)
    return {key: _serializer.serialize(value) for key, value in clean.items() if value is not None}


def to_value(value: Any) -> dict[str, Any]:
    clean = json.loads(json.dumps(value, default=str), parse_float=Decimal)
    return dict(_serializer.serialize(clean))


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list | set):
        return [_plain(inner) for inner in value]
    return value


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


def deployment_document(deployment: Deployment) -> dict[str, Any]:
    return {"pk": model_pk(deployment.model), "sk": ACTIVE_DEPLOYMENT_SK, **deployment.__dict__}


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
