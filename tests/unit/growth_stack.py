"""A step context for the training-data tests: buckets on moto, the in-memory registry, recorded events, a clock."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import boto3
import numpy as np
import pandas as pd

from sluice.config import ProjectConfig, load_config_text
from sluice.events import DetailType, EventPublisher, PublishedEvent
from sluice.registry import InMemoryRegistry
from sluice.settings import Settings
from sluice.steps.context import StepContext
from sluice.steps.validate import DroppedObject, validate_drop
from sluice.storage import ObjectStore

MODEL = "churn"
DATA_BUCKET, ARTIFACT_BUCKET, TABLE = "data", "artifacts", "registry"
START = 1_800_000_000.0


def config_text(data: str = "", training: str = "") -> str:
    """A small binary classification model (one family, 2 folds, no bootstrap) with extra ``[data]`` and
    ``[training]`` lines."""
    return f"""
[models.{MODEL}]
task = "classification"
[models.{MODEL}.training]
families = ["logistic_regression"]
cv_folds = 2
{training}
[models.{MODEL}.data]
{data}
[models.{MODEL}.gates]
primary_metric = "roc_auc"
[models.{MODEL}.gates.bootstrap]
samples = 0
[models.{MODEL}.contract]
target = "churned"
target_values = ["yes", "no"]
positive = "yes"
min_rows = 20
[[models.{MODEL}.contract.columns]]
name = "usage"
type = "float"
[[models.{MODEL}.contract.columns]]
name = "plan"
type = "string"
allowed = ["basic", "pro"]
"""


def drop_csv(rows: int, seed: int, shift: float = 0.0) -> bytes:
    """``rows`` rows whose label follows ``usage`` (with noise); ``shift`` moves the usage distribution."""
    rng = np.random.default_rng(seed)
    usage = rng.normal(5.0 + shift, 2.0, rows)
    churned = np.where(usage + rng.normal(0, 1.5, rows) < 5.0 + shift, "yes", "no")
    frame = pd.DataFrame({"usage": usage.round(4), "plan": rng.choice(["basic", "pro"], rows),
                          "churned": churned})
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


class RecordingPublisher(EventPublisher):
    """Keeps every published event instead of sending it."""

    def __init__(self) -> None:
        super().__init__(None, "bus")
        self.published: list[PublishedEvent] = []

    def publish(self, detail_type: DetailType, detail: dict[str, Any]) -> PublishedEvent:
        event = PublishedEvent(detail_type, detail, str(len(self.published)))
        self.published.append(event)
        return event

    def of(self, detail_type: DetailType) -> list[dict[str, Any]]:
        return [event.detail for event in self.published if event.detail_type is detail_type]


@dataclass
class GrowthStack:
    """One model's state on moto, its clock and what it published."""

    ctx: StepContext
    events: RecordingPublisher
    now: list[float] = field(default_factory=lambda: [START])

    def drop(self, name: str, body: bytes) -> dict[str, Any]:
        """Deliver a file under incoming/ and validate it (the real validate_dataset path)."""
        key = f"incoming/{MODEL}/{name}"
        s3 = boto3.client("s3")
        put = s3.put_object(Bucket=DATA_BUCKET, Key=key, Body=body)
        return validate_drop(self.ctx, DroppedObject(bucket=DATA_BUCKET, key=key, etag=put["ETag"].strip('"'),
                                                     size=len(body)))

    def advance_days(self, days: float) -> None:
        self.now[0] += days * 24 * 3600


def growth_stack(config: ProjectConfig | str) -> GrowthStack:
    """Buckets on moto (call inside ``mock_aws``) and the in-memory registry (its DynamoDB twin is held to the same
    contract by test_registry_contract)."""
    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in (DATA_BUCKET, ARTIFACT_BUCKET):
        s3.create_bucket(Bucket=bucket)
    now = [START]

    def clock() -> float:
        return now[0]

    events = RecordingPublisher()
    settings = Settings(prefix="sluice", data_bucket=DATA_BUCKET, artifact_bucket=ARTIFACT_BUCKET,
                        registry_table=TABLE, idempotency_table="idempotency", event_bus="bus", code_version="test")
    ctx = StepContext(settings=settings,
                      config=load_config_text(config) if isinstance(config, str) else config,
                      data=ObjectStore(s3, DATA_BUCKET), artifacts=ObjectStore(s3, ARTIFACT_BUCKET),
                      registry=InMemoryRegistry(clock=clock), events=events, clock=clock)
    return GrowthStack(ctx=ctx, events=events, now=now)
