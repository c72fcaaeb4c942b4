"""The registry's DynamoDB layout (keys) and typed items; only the DynamoDB backend uses it."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

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
ACTIVE_DEPLOYMENT_SK = "DEPLOYMENT#active"
ENDPOINT_CHANGED_SK = "ENDPOINT#changed"
QUEUED_DEPLOYMENT_PREFIX = "DEPLOYMENT#queued#"


def queued_deployment_sk(version: int) -> str:
    return f"{QUEUED_DEPLOYMENT_PREFIX}{version:06d}"


_LEASE_SKS = {"deploy": "LOCK#deploy", "retrain": "RETRAIN#guard"}  # the keys these two leases had before


def lease_sk(name: str) -> str:
    return _LEASE_SKS.get(name, f"LEASE#{name}")


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
