"""read_dataset: dropped bytes plus their key in, an Arrow table out (or a readable reason why not)."""

from __future__ import annotations

import io

import pyarrow as pa

from sluice.data.batches import check_unique_names, open_batches
from sluice.data.errors import DatasetReadError
from sluice.data.literals import text_array
from sluice.data.payload import DEFAULT_MAX_DECOMPRESSED_BYTES


def read_dataset(
    body: bytes, key: str, *, max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
) -> pa.Table:
    """Read a dropped object held in memory as a table; its format comes from the extension of ``key``.

    CSV/TSV columns are all read as strings (the contract decides types). Raises DatasetReadError
    for an unsupported extension, empty, binary or non-UTF-8 content, unparseable rows, duplicate
    column names, or gzip content expanding beyond ``max_decompressed_bytes``. Large files are better
    streamed with :func:`open_batches`.
    """
    stream = open_batches(io.BytesIO(body), key, max_decompressed_bytes=max_decompressed_bytes)
    batches = list(stream)
    if not batches:
        table = pa.table({name: text_array(()) for name in stream.names})
    else:
        try:
            table = pa.concat_tables([pa.Table.from_batches([batch]) for batch in batches],
                                     promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise DatasetReadError(f"the blocks of the file disagree on column types ({error}); "
                                   "validate it streamed instead") from error
    check_unique_names(table.column_names)
    if table.num_columns == 0:
        raise DatasetReadError("the file has no columns")
    return table
