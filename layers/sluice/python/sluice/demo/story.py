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
from sluice.demo.approval_story import approve_waiting_version, with_manual_approval
from sluice.demo.monitoring_story import play_monitoring
from sluice.local import LocalCloud, TimelineEntry
from sluice.local.http import EndpointServer
from sluice.registry import DynamoDBRegistry, ModelVersion

MODEL = "breast-cancer"
CANARY_REQUESTS = 200
SECOND_MODEL = "diabetes"
FIRST_MONTH_ROWS = 300
"""The breast-cancer cases arrive in two deliveries: these first, the remaining 269 a "month" later."""
FIRST_MONTH = "breast_cancer_2026-10.csv"
SECOND_MONTH = "breast_cancer_2026-11.csv"


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

    with tempfile.TemporaryDirectory() as workdir, LocalCloud(
            with_manual_approval(config_path, SECOND_MODEL, Path(workdir)), on_record=reporter.event) as cloud:
        registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
        server = EndpointServer(cloud).start()
        try:
            reporter.info(f"embedded AWS (moto) up; stack provisioned; endpoint at {server.url}")
            first, second = _deliveries(Path(workdir))
            _drop_data(cloud, reporter, first, Path(workdir), check)
            approve_waiting_version(cloud, reporter, registry, check, model=SECOND_MODEL, step=3)
            _predict(server.url, reporter, check, number=4, expected_version="1")
            _explain(server.url, reporter, check)
            _redeliver(cloud, reporter, registry, first, check)
            _new_month(cloud, reporter, registry, second, check)
            _predict(server.url, reporter, check, number=7, expected_version="2")
            _scheduled_retrain_without_new_data(cloud, reporter, registry, check)
            _rollback(cloud, reporter, registry, check)
            _predict(server.url, reporter, check, number=10, expected_version="1")
            play_monitoring(cloud, reporter, registry, check, first_step=11)
            _versions_learned_something(cloud, reporter, registry, check)
            for model in cloud.config.names:
                summary.versions[model] = registry.list_versions(model)
                live = registry.get_alias(model, "live")
                summary.live[model] = live.version if live else None
        finally:
            server.stop()
    summary.seconds = time.perf_counter() - started
    return summary


def _deliveries(workdir: Path) -> tuple[Path, Path]:
    first, second = workdir / FIRST_MONTH, workdir / SECOND_MONTH
    first_bytes, second_bytes = samples.deliveries(samples.BREAST_CANCER, FIRST_MONTH_ROWS)
    first.write_bytes(first_bytes)
    second.write_bytes(second_bytes)
    return first, second


def _drop_data(cloud: LocalCloud, reporter: DemoReporter, first_month: Path, workdir: Path, check: Any) -> None:
    reporter.step(1, f"Drop real data (the first month of breast-cancer cases, {FIRST_MONTH_ROWS} rows; the "
                     "diabetes study) and one broken file into incoming/")
    cloud.drop(first_month, MODEL)
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
    check(set(deployed) == {MODEL} and deployed[MODEL]["version"] == 1,
          f"version 1 of {MODEL} passed its gate and went live (that of {SECOND_MODEL} waits for approval)")


def _post(url: str, verb: str, instances: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{url}/v1/models/{MODEL}:{verb}", method="POST",
                                     data=json.dumps({"instances": instances}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _predict(url: str, reporter: DemoReporter, check: Any, *, number: int, expected_version: str) -> None:
    reporter.step(number, f"POST /v1/models/{MODEL}:predict over local HTTP")
    features, truth = samples.instances(samples.BREAST_CANCER, "diagnosis", 4, start=17)
    status, body = _post(url, "predict", features)
    reporter.info(f"HTTP {status}: predictions {body.get('predictions')} (truth {truth}), "
                  f"model_version {body.get('model_version')}")
    check(status == 200 and body.get("model_version") == expected_version,
          f"the endpoint answered with model version {expected_version}")


def _explain(url: str, reporter: DemoReporter, check: Any) -> None:
    """One explanation: why the model said what it said for one case (POST :explain)."""
    features, _ = samples.instances(samples.BREAST_CANCER, "diagnosis", 1, start=17)
    status, body = _post(url, "explain", features)
    explanation = (body.get("explanations") or [{}])[0]
    contributions = explanation.get("contributions") or {}
    top = ", ".join(f"{name} {value:+.3f}" for name, value in list(contributions.items())[:3])
    base, value = explanation.get("base", 0.0), explanation.get("value", 0.0)
    reporter.info(f"POST :explain → HTTP {status}: {explanation.get('output')} = base {base:.3f} + contributions "
                  f"({top}, ...) = {value:.3f}")
    added_up = abs(base + sum(contributions.values()) - value) < 1e-6
    check(status == 200 and bool(contributions) and added_up,
          "the endpoint explained a prediction: per-feature contributions that add up to the model's output")


def _redeliver(cloud: LocalCloud, reporter: DemoReporter, registry: DynamoDBRegistry, first_month: Path,
               check: Any) -> None:
    reporter.step(5, "The first month is delivered again: same content, same data version — nothing is retrained")
    before = len(registry.list_versions(MODEL))
    cloud.drop(first_month, MODEL)
    cloud.run_until_idle()
    check(len(registry.list_versions(MODEL)) == before, "no new data version and no new model version")


def _new_month(cloud: LocalCloud, reporter: DemoReporter, registry: DynamoDBRegistry, second_month: Path,
               check: Any) -> None:
    model = cloud.config.model(MODEL)
    policy = model.deployment
    total = len(samples.read_rows(samples.BREAST_CANCER))
    expected_rows = total if model.data.mode == "append" else total - FIRST_MONTH_ROWS
    reporter.step(6, f"A month later the next {total - FIRST_MONTH_ROWS} cases arrive: data mode "
                     f"{model.data.mode!r}, so training uses {expected_rows} rows; gate, release by {policy.strategy}")
    cloud.drop(second_month, MODEL)
    cloud.run_until_idle()
    first, second = registry.get_version(MODEL, 1), _version(registry, 2)
    rows = _rows(second) if second else 0
    check(second is not None and rows == expected_rows and second.data_version != first.data_version
          and second.artifact_sha256 != first.artifact_sha256,
          f"the new data trained version 2 on {rows} rows (v1: {_rows(first)}): data version "
          f"{second.data_version if second else '?'} (v1 {first.data_version}), a different model "
          f"(sha256 {second.artifact_sha256[:8] if second else '?'} vs {first.artifact_sha256[:8]})")
    _release(cloud, reporter, registry, check)


def _release(cloud: LocalCloud, reporter: DemoReporter, registry: DynamoDBRegistry, check: Any) -> None:
    """Version 2 is released by the model's strategy: at once, or a canary that bakes and is checked."""
    policy = cloud.config.model(MODEL).deployment
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


def _scheduled_retrain_without_new_data(cloud: LocalCloud, reporter: DemoReporter, registry: DynamoDBRegistry,
                                        check: Any) -> None:
    reporter.step(8, "The weekly retrain schedule fires, but no new data arrived since version 2")
    before = [v.version for v in registry.list_versions(MODEL)]
    result = cloud.fire_schedule(MODEL)[0]
    cloud.run_until_idle()
    after = [v.version for v in registry.list_versions(MODEL)]
    reporter.info(f"train_model: {json.dumps(result, default=str)[:300]}")
    check(after == before, "training on the data live was trained on is a recorded no-op: no new, identical "
                           f"version (versions still {', '.join(f'v{v}' for v in after)})")


def _versions_learned_something(cloud: LocalCloud, reporter: DemoReporter, registry: DynamoDBRegistry,
                                check: Any) -> None:
    """Every version exists because it learned from data the one before it had not seen."""
    versions = [v for v in registry.list_versions(MODEL) if v.artifact_sha256]
    reporter.info("\n".join(f"v{v.version}: data version {v.data_version}, {_rows(v)} rows, sha256 "
                            f"{v.artifact_sha256[:12]}, trigger {v.lineage.get('trigger', '?')}" for v in versions))
    check(len({v.data_version for v in versions}) == len(versions)
          and len({v.artifact_sha256 for v in versions}) == len(versions),
          f"the {len(versions)} versions of {MODEL} differ pairwise in data version and in model sha256")
    if cloud.config.model(MODEL).data.learn_from_feedback and len(versions) >= 3:
        latest = versions[-1]
        earlier = max(_rows(v) for v in versions[:-1])
        check(_rows(latest) > earlier, f"the drift-triggered retrain v{latest.version} learned from the labelled "
                                       f"traffic too: {_rows(latest)} rows (before: at most {earlier})")


def _version(registry: DynamoDBRegistry, number: int) -> ModelVersion | None:
    return next((v for v in registry.list_versions(MODEL) if v.version == number), None)


def _rows(version: ModelVersion) -> int:
    """The rows a version was trained and evaluated on (its lineage: train + holdout)."""
    return sum(int(version.lineage.get(key) or 0) for key in ("train_rows", "holdout_rows"))


def _rollback(cloud: LocalCloud, reporter: DemoReporter, registry: DynamoDBRegistry, check: Any) -> None:
    reporter.step(9, "An hour after the release the endpoint's error alarm goes to ALARM: roll back to the last "
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
