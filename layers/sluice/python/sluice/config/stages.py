"""``[stages.<name>]``: what one deployment stage (dev, prod, …) does differently, read strictly.

The configuration is the same file in every stage; a stage table says where that stage's model versions come from.
A stage with ``source = "promotion"`` never trains: drops are still validated and recorded, but neither they nor
the retrain schedule, drift or the quality alarm start a training (a recorded no-op), and the stage gets no retrain
schedule rule; its versions arrive by ``sluice promote`` from another stage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sluice.config.reader import Table

TRAINING_SOURCE = "training"
PROMOTION_SOURCE = "promotion"
SOURCES = (TRAINING_SOURCE, PROMOTION_SOURCE)
STAGE_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
"""A stage name as ``infra/stages.py`` and ``sluice.naming.stage_prefix`` use it (dev, prod, a throwaway xab1)."""


@dataclass(frozen=True)
class StageSettings:
    """One stage's switches; the default stage trains on its own drops."""

    source: str = TRAINING_SOURCE
    """Where the stage's versions come from: ``training`` (its own drops and retrains) or ``promotion`` only."""

    @property
    def trains(self) -> bool:
        return self.source == TRAINING_SOURCE


def parse_stages(body: Table) -> dict[str, StageSettings]:
    """Read ``[stages]``: one table per stage name (absent: every stage trains)."""
    stages: dict[str, StageSettings] = {}
    for name in list(body.body):
        if not STAGE_NAME.match(name):
            raise body.error(f"stage names match {STAGE_NAME.pattern} (dev, prod), got {name!r}", name)
        table = body.table(name)
        stages[name] = StageSettings(source=table.string("source", TRAINING_SOURCE, choices=SOURCES))
        table.finish()
    body.finish()
    return stages
