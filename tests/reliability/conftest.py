"""Fixtures of the reliability suite: a local stack on the fast configuration behind a moto server, and its scenario."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sluice.demo import samples
from sluice.local import LocalCloud
from sluice.local.aws_events import scheduled_event
from sluice.wiring import ROUTES, ScheduleTrigger
from tests.reliability.harness import REPO, Dispatcher, fast_config
from tests.reliability.server import SerialMotoServer

CloudFactory = Callable[[], LocalCloud]


@pytest.fixture(scope="session")
def fast_config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fast_config(tmp_path_factory.mktemp("reliability") / "sluice.toml")


@pytest.fixture(scope="session")
def aws() -> Iterator[SerialMotoServer]:
    """One moto server for the suite, serving one API call at a time; each stack resets it."""
    server = SerialMotoServer().start()
    yield server
    server.stop()


def stack(aws: SerialMotoServer, config: Path) -> LocalCloud:
    """A local stack not yet started, on a fresh (reset) moto server."""
    aws.reset()
    return LocalCloud(config, functions_dir=REPO / "functions", endpoint_url=aws.url)


@pytest.fixture
def new_cloud(aws: SerialMotoServer, fast_config_path: Path) -> Iterator[CloudFactory]:
    """Start fresh local stacks on demand (each one stopped at the end of the test)."""
    started: list[LocalCloud] = []

    def start() -> LocalCloud:
        if started:
            started[-1].stop()
        cloud = stack(aws, fast_config_path).start()
        started.append(cloud)
        return cloud

    yield start
    if started:
        started[-1].stop()


def play_story(cloud: LocalCloud, dispatcher: Dispatcher, model: str = "breast-cancer") -> None:
    """Drop good (the first 450 rows) and broken data, let it settle; deliver the grown file (a retrain); fire
    the retrain schedule (a recorded no-op: no new data); then raise the endpoint's alarm."""
    rows = samples.BREAST_CANCER.read_text().splitlines(keepends=True)
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=f"incoming/{model}/early.csv",
                                Body="".join(rows[:451]).encode())
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=f"incoming/{model}/broken.csv",
                                Body=samples.broken_copy(samples.BREAST_CANCER))
    dispatcher.run()
    cloud.drop(samples.BREAST_CANCER, model)
    dispatcher.run()
    rule_arn = cloud.provisioned.schedule_rules[model]
    for route in ROUTES:
        if isinstance(route.trigger, ScheduleTrigger):
            dispatcher.add(route.function, scheduled_event(rule_arn, region="us-east-1", now=1_750_000_000.0))
    dispatcher.run()
    cloud.set_alarm(model, "errors")
    dispatcher.run()
