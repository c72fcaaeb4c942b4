"""The custom EventBridge bus that carries sluice's own events, with an archive for replay."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

from sluice.naming import EVENT_SOURCE


class EventBusWithArchive(Construct):
    """A named custom bus plus an archive of every sluice event on it."""

    def __init__(self, scope: Construct, construct_id: str, *, bus_name: str, archive_retention: Duration) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name)
        self.archive = self.bus.archive(
            "Archive",
            description=f"Every {EVENT_SOURCE} event on {bus_name}, for replay",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
            retention=archive_retention,
        )
