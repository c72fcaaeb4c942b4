"""Model cards: a JSON document per model version and a self-contained HTML page with plots."""

from __future__ import annotations

from sluice.cards.document import CARD_SCHEMA, build_card
from sluice.cards.html import render_html

__all__ = ["CARD_SCHEMA", "build_card", "render_html"]
