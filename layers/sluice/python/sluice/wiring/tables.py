"""The DynamoDB tables of a stage, declared once: keys, indexes and TTL attribute (CDK and the local stack)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sluice.settings import Settings

AttributeType = Literal["S", "N", "B"]


@dataclass(frozen=True)
class Key:
    """A key attribute and its DynamoDB type."""

    name: str
    type: AttributeType = "S"


@dataclass(frozen=True)
class SecondaryIndex:
    """A global secondary index (projection: all attributes)."""

    name: str
    partition_key: Key
    sort_key: Key | None = None


@dataclass(frozen=True)
class TableSpec:
    """One on-demand table; ``role`` names it in Settings (``<role>_table``) and in CDK (``<Role>`` construct)."""

    role: Literal["registry", "idempotency"]
    partition_key: Key
    sort_key: Key | None = None
    ttl_attribute: str | None = None
    indexes: tuple[SecondaryIndex, ...] = ()
    system_of_record: bool = False
    """Retained whatever the stage's removal policy, with deletion protection where the stage retains data."""

    def keys(self) -> tuple[Key, ...]:
        return (self.partition_key,) if self.sort_key is None else (self.partition_key, self.sort_key)

    def attributes(self) -> dict[str, AttributeType]:
        """Every attribute a key of the table or of an index uses, with its type."""
        keys = [*self.keys()]
        for index in self.indexes:
            keys.extend((index.partition_key,) if index.sort_key is None else (index.partition_key, index.sort_key))
        return {key.name: key.type for key in keys}

    def table_name(self, settings: Settings) -> str:
        name: str = getattr(settings, f"{self.role}_table")
        return name


TABLES: tuple[TableSpec, ...] = (
    TableSpec("registry", Key("pk"), Key("sk"), system_of_record=True),
    TableSpec("idempotency", Key("id"), ttl_attribute="expiration"),  # Powertools' idempotency record
)
