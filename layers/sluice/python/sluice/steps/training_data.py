"""Read the accepted data versions of one training as one frame (training and evaluation read it alike)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from sluice.data import from_parquet_bytes
from sluice.storage import ObjectStore


class MixedSchemaError(ValueError):
    """Accepted versions that cannot be concatenated (their normalized columns differ)."""


def load_training_frame(store: ObjectStore, data_keys: Sequence[str]) -> pd.DataFrame:
    """The accepted Parquet files concatenated in the given order (rows of the first file first)."""
    tables = [from_parquet_bytes(store.get_bytes(key)) for key in data_keys]
    if len(tables) == 1:
        return tables[0].to_pandas()
    first = set(tables[0].column_names)
    for key, table in zip(data_keys, tables, strict=True):
        if set(table.column_names) != first:
            raise MixedSchemaError(f"{key} has columns {sorted(table.column_names)}, not {sorted(first)}")
    aligned = [table.select(tables[0].column_names) for table in tables]
    try:
        combined = pa.concat_tables(aligned, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise MixedSchemaError(f"the accepted versions do not share one schema: {error}") from error
    return combined.to_pandas()


def lineage_data_keys(lineage: dict[str, Any]) -> list[str]:
    """The data keys a version was trained on, from its lineage (versions before append mode name one)."""
    keys = lineage.get("data_keys")
    return [str(key) for key in keys] if keys else [str(lineage.get("data_key") or "")]
