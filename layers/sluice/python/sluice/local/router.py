"""The router the local endpoint uses: alias ``live`` and its weights → the version that serves a request.

Lambda sends each request to an additional version with that version's weight, and to the alias's primary
version otherwise; seeded, so tests can count which version answered.
"""

from __future__ import annotations

import random
from typing import Any


class WeightedRouter:
    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)

    def choose(self, alias: dict[str, Any]) -> str:
        """The version one request goes to (``alias`` as GetAlias returns it)."""
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        draw = self._random.random()
        for version, weight in sorted(weights.items()):
            if draw < float(weight):
                return str(version)
            draw -= float(weight)
        return str(alias["FunctionVersion"])
