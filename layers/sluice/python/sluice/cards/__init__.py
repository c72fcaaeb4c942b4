"""Model cards: a JSON document per model version and a self-contained HTML page with plots."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.cards.document import CARD_SCHEMA, build_card
    from sluice.cards.html import render_html

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
