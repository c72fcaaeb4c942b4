"""Read the accepted data versions of one training and split them (training and evaluation do it alike).

Memory: a version in a folder (the training job's input channel) is read from its file, not into bytes first;
Arrow's buffers are handed to pandas column by column (``self_destruct``) and the pool's freed memory is returned
to the system, so after the split only the two parts remain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from sluice.config.model import ModelConfig
from sluice.data import from_parquet_bytes, from_parquet_file
from sluice.storage import DirectoryStore, ObjectReader
from sluice.training import split_holdout


class MixedSchemaError(ValueError):
    """Accepted versions that cannot be concatenated (their normalized columns differ)."""


def load_training_frame(store: ObjectReader, data_keys: Sequence[str]) -> pd.DataFrame:
    """The accepted Parquet files concatenated in the given order (rows of the first file first)."""
    return _concatenated(_load(store, data_keys))


def read_table(store: ObjectReader, key: str) -> pa.Table:
    """One accepted Parquet file: from its path when ``store`` is a folder, else from its bytes."""
    if isinstance(store, DirectoryStore):
        return from_parquet_file(store.path(key))
    return from_parquet_bytes(store.get_bytes(key))


def _load(store: ObjectReader, data_keys: Sequence[str]) -> list[pa.Table]:
    return _aligned(data_keys, [read_table(store, key) for key in data_keys])


def _concatenated(tables: list[pa.Table]) -> pd.DataFrame:
    """The tables as one frame; the tables are consumed (their buffers go to pandas or back to the system)."""
    if len(tables) == 1:
        combined = tables.pop()
    else:
        try:
            combined = pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise MixedSchemaError(f"the accepted versions do not share one schema: {error}") from error
        tables.clear()
    frame = combined.to_pandas(self_destruct=True, split_blocks=True)
    del combined
    pa.default_memory_pool().release_unused()
    return frame


def load_split(store: ObjectReader, data_keys: Sequence[str], model: ModelConfig
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(train, holdout)`` of the accepted versions at ``data_keys``.

    Each version is split on its own (seeded, as ``split_holdout`` does; a version too small to stratify is
    split unstratified) and the parts are concatenated in order, so a row held out once stays held out in every
    later window: a live model trained on an earlier window never saw the rows a later candidate is compared
    with it on. One version, or ``training.time_column`` (the holdout is then the latest rows of the whole
    window): ``split_holdout`` of the whole frame.
    """
    tables = _load(store, data_keys)
    sizes = [table.num_rows for table in tables]
    frame = _concatenated(tables)
    if len(sizes) == 1 or model.training.time_column is not None:
        parts = split_holdout(frame, model)
    else:
        trains, holdouts, start = [], [], 0
        for size in sizes:
            train, holdout = split_holdout(frame.iloc[start:start + size], model, strict=False)
            trains.append(train)
            holdouts.append(holdout)
            start += size
        parts = pd.concat(trains, ignore_index=True), pd.concat(holdouts, ignore_index=True)
    del frame  # its columns were Arrow's buffers: freed now, returned to the system below
    pa.default_memory_pool().release_unused()
    return parts


def lineage_data_keys(lineage: dict[str, Any]) -> list[str]:
    """The data keys a version was trained on, from its lineage (versions before append mode name one)."""
    keys = lineage.get("data_keys")
    return [str(key) for key in keys] if keys else [str(lineage.get("data_key") or "")]


def _aligned(data_keys: Sequence[str], tables: list[pa.Table]) -> list[pa.Table]:
    first = tables[0].column_names
    for key, table in zip(data_keys, tables, strict=True):
        if set(table.column_names) != set(first):
            raise MixedSchemaError(f"{key} has columns {sorted(table.column_names)}, not {sorted(first)}")
    return [table.select(first) for table in tables]
