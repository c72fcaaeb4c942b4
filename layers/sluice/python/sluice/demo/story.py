"""The story `make demo` plays: every step by the real handler, triggered by a real-shaped event."""

from __future__ import annotations

import json
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sluice.demo import samples
from sluice.demo.monitoring_story import play_monitoring
from sluice.local import LocalCloud, TimelineEntry
from sluice.local.http import EndpointServer
from sluice.registry import DynamoDBRegistry, ModelVersion

MODEL = "breast-cancer"
CANARY_REQUESTS = 200
SECOND_MODEL = "diabetes"


class DemoFailedError(RuntimeError):
    """A step of the story did not happen as expected."""


class DemoReporter(Protocol):
    def step(self, number: int, title: str) -> None: ...
    def info(self, text: str) -> None: ...
    def event(self, entry: TimelineEntry) -> None: ...
    def check(self, passed: bool, text: str) -> None: ...


@dataclass
class DemoSummary:
    versions: dict[str, list[ModelVersion]] = field(default_factory=dict)
    live: dict[str, int | None] = field(default_factory=dict)
    checks: list[tuple[bool, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(passed for passed, _ in self.checks)


def run_demo(config_path: Path, reporter: DemoReporter) -> DemoSummary:
    """Play the whole lifecycle; raises DemoFailedError at the first unmet expectation."""
    started = time.perf_counter()
    summary = DemoSummary()

    def check(passed: bool, text: str) -> None:
        summary.checks.append((passed, text))
        reporter.check(passed, text)
        if not passed:
            raise DemoFailedError(text)

    with LocalCloud(config_path, on_record=reporter.event) as cloud, tempfile.TemporaryDirectory() as workdir:
        registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
        server = EndpointServer(cloud).start()
        try:
            reporter.info(f"embedded AWS (moto) up; stack provisioned; endpoint at {server.url}")
            _drop_data(cloud, reporter, Path(workdir), check)
            _predict(server.url, reporter, check, number=3, expected_version="1")
            _redeliver(cloud, reporter, registry, check)
            _scheduled_retrain(cloud, reporter, registry, check)
            _predict(server.url, reporter, check, number=6, expected_version="2")
            _rollback(cloud, reporter, registry, check)
            _predict(server.url, reporter, check, number=8, expected_version="1")
            play_monitoring(cloud, reporter, registry, check, first_step=9)
            for model in cloud.config.names:
                summary.versions[model] = registry.list_versions(model)
                live = registry.get_alias(model, "live")
                summary.live[model] = live.version if live else None
        finally:
            server.stop()
    summary.seconds = time.perf_counter() - started
    return summary


def _drop_data(cloud: LocalCloud, reporter: DemoReporter, workdir: Path, check: Any) -> None:
    reporter.step(1, "Drop real datasets (and one broken file) into incoming/")
    cloud.drop(samples.BREAST_CANCER, MODEL)
    broken = workdir / "breast_cancer_broken.csv"
    broken.write_bytes(samples.broken_copy(samples.BREAST_CANCER))
    cloud.drop(broken, MODEL)
    cloud.drop(samples.DIABETES, SECOND_MODEL)
    reporter.step(2, "validate → train → evaluate → deploy, each function triggered by its event")
    cloud.run_until_idle()
    rejected = _events(cloud, "DatasetRejected")
    check(len(rejected) == 1, "the broken file was quarantined under rejected/ with a report")
    if rejected:
        report_key = rejected[0]["report_key"]
        report = json.loads(cloud.clients.s3.get_object(Bucket=cloud.settings.data_bucket,
                                                         Key=report_key)["Body"].read())
        reporter.info(f"quarantine report s3://{cloud.settings.data_bucket}/{report_key}:\n{report['summary']}")
    accepted = _events(cloud, "DatasetAccepted")
    check(len(accepted) == 2, "both good datasets were accepted as content-addressed data versions")
    deployed = {event["model"]: event for event in _events(cloud, "ModelDeployed")}
    check(set(deployed) == {MODEL, SECOND_MODEL} and deployed[MODEL]["version"] == 1,
          "version 1 of each model passed its gate and went live")


def _predict(url: str, reporter: DemoReporter, check: Any, *, number: int, expected_version: str) -> None:
    reporter.step(number, f"POST /v1/models/{MODEL}:predict over local HTTP")
    features, truth = samples.instances(samples.BREAST_CANCER, "diagnosis", 4, start=17)
    request = urllib.request.Request(f"{url}/v1/models/{MODEL}:predict", method="POST",
                                     data=json.dumps({"instances": features}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, body = response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        status, body = error.code, json.loads(error.read() or b"{}")
    reporter.info(f"HTTP {status}: predictions {body.get('predictions')} (truth {truth}), "
                  f"model_version {body.get('model_version')}")
    check(status == 200 and body.get("model_version") == expected_version,
          f"the endpoint answered with model version {expected_version}")


def _redeliver(cloud: LocalCloud, reporter: DemoReporter, registry: DynamoDBRegistry, check: Any) -> None:
    reporter.step(4, "The same file is dropped again: same content, same data version — nothing is retrained")
    before = len(registry.list_versions(MODEL))
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle()
    check(len(registry.list_versions(MODEL)) == before, "no new data version and no new model version")


def _scheduled_retrain(cloud: LocalCloud, reporter: DemoReporter, registry: DynamoDBRegistry, check: Any) -> None:
    policy = cloud.config.model(MODEL).deployment
    reporter.step(5, f"The retrain schedule fires: train on the latest data, gate, release by {policy.strategy}")
    cloud.fire_schedule(MODEL)
    cloud.run_until_idle()
    deployment = registry.get_deployment(MODEL)
    if policy.strategy == "all_at_once" or deployment is None:
        live = registry.get_alias(MODEL, "live")
        check(live is not None and live.version == 2, "version 2 passed the gate against version 1 and is live")
        return
    alias = cloud.live_alias(cloud.settings.names.predict_function(MODEL)) or {}
    extra = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    check(deployment.version == 2 and extra == {deployment.candidate_lambda_version: deployment.weight},
          f"version 2 passed the gate and is a {policy.strategy}: alias live serves it {deployment.weight:.0%} "
          f"(λ v{deployment.candidate_lambda_version}), v1 the rest")
    features, _ = samples.instances(samples.BREAST_CANCER, "diagnosis", 2, start=60)
    answered = Counter(cloud.predict(MODEL, features).body.get("model_version") for _ in range(CANARY_REQUESTS))
    reporter.info(f"{CANARY_REQUESTS} requests through the endpoint: answered by " + ", ".join(
        f"v{version}: {count}" for version, count in sorted(answered.items())))
    early = cloud.fire_schedule(MODEL, "deployment-check")[0]["releases"][0]
    check(early["outcome"] == "baking", f"the bake check before {policy.bake_minutes:g} minutes: still baking")
    cloud.advance(policy.bake_minutes)
    result = cloud.fire_schedule(MODEL, "deployment-check")[0]["releases"][0]
    cloud.run_until_idle()
    reporter.info(f"bake check (v2 vs v1, per version): {result.get('reason', result)}")
    live = registry.get_alias(MODEL, "live")
    check(result["outcome"] == "promoted" and live is not None and live.version == 2,
          "the bake check compared errors, latency p99 and predictions per version and promoted v2 to live")


def _rollback(cloud: LocalCloud, reporter: DemoReporter, registry: DynamoDBRegistry, check: Any) -> None:
    reporter.step(7, "An hour after the release the endpoint's error alarm goes to ALARM: roll back to the last "
                     "good version")
    cloud.advance(60)
    cloud.set_alarm(MODEL, "errors")
    cloud.run_until_idle()
    live = registry.get_alias(MODEL, "live")
    rolled = registry.get_version(MODEL, 2)
    check(live is not None and live.version == 1 and rolled.status.value == "rolled_back",
          "live is back on version 1; version 2 is recorded as rolled_back")


def _events(cloud: LocalCloud, detail_type: str) -> list[dict[str, Any]]:
    return [entry.detail for entry in cloud.timeline if entry.kind == "event" and entry.name == detail_type]
