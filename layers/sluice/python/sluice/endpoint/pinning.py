"""How a published predict version names the model it serves (immutable configuration)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ENV_MODEL = "SLUICE_MODEL"
ENV_MODEL_VERSION = "SLUICE_MODEL_VERSION"
ENV_MODEL_SHA256 = "SLUICE_MODEL_SHA256"


@dataclass(frozen=True)
class PinnedModel:
    """The model version one published predict version serves."""

    model: str
    version: int
    sha256: str

    def to_env(self) -> dict[str, str]:
        return {ENV_MODEL: self.model, ENV_MODEL_VERSION: str(self.version), ENV_MODEL_SHA256: self.sha256}

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PinnedModel | None:
        """None when no model is pinned (the unpublished $LATEST before the first deployment)."""
        version = env.get(ENV_MODEL_VERSION)
        if not version or not env.get(ENV_MODEL) or not env.get(ENV_MODEL_SHA256):
            return None
        return cls(model=env[ENV_MODEL], version=int(version), sha256=env[ENV_MODEL_SHA256])
