"""Promotion across stages: the exact artifact of one stage's version becomes a new version of another stage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.promotion.manifest import (
        PromotionRefusedError,
        claim_key,
        expected_sha256,
        promoted_card,
        promoted_evaluation,
        verify_files,
    )
    from sluice.promotion.stages import ACTOR, PromotionResult, StageEnd, promote

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
