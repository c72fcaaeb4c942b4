"""Where things live in S3, and small typed access to it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.storage.directory import DirectoryStore, ObjectReader, ObjectWriter
    from sluice.storage.keys import (
        IncomingObject,
        accepted_data_key,
        accepted_manifest_key,
        model_artifact_key,
        model_prefix,
        parse_incoming_key,
        rejected_prefix,
    )
    from sluice.storage.objects import ObjectStore

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
