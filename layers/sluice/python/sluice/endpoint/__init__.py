"""The live endpoint: predict function versions pinned to models, and the alias that serves them."""

from __future__ import annotations

from sluice.endpoint.pinning import ENV_MODEL, ENV_MODEL_SHA256, ENV_MODEL_VERSION, PinnedModel
from sluice.endpoint.swap import EndpointSwapper, SwapError

__all__ = ["ENV_MODEL", "ENV_MODEL_SHA256", "ENV_MODEL_VERSION", "EndpointSwapper", "PinnedModel", "SwapError"]
