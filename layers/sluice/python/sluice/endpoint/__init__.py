"""The live endpoint: predict function versions pinned to models, and the alias that serves them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.endpoint.pinning import ENV_MODEL, ENV_MODEL_SHA256, ENV_MODEL_VERSION, PinnedModel
    from sluice.endpoint.swap import EndpointSwapper, SwapError

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
