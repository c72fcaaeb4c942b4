"""Helpers of the release scenarios: a config per strategy, approved versions without retraining, traffic.

Training is covered by the lifecycle tests; here each scenario starts from versions trained once per session
(their artifacts copied into a fresh stack and registered as approved candidates), so a scenario takes seconds.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.demo import samples
from sluice.local import LocalCloud
from sluice.registry import DynamoDBRegistry, Status
from sluice.storage import model_prefix
from tests.conftest import CONFIG, REPO, load_event, trials_only

MODEL = "breast-cancer"
OTHER = "diabetes"
DATASETS = {MODEL: (samples.BREAST_CANCER, "diagnosis"), OTHER: (samples.DIABETES, "progression")}
COPIED_FIELDS = ("family", "params", "metrics", "artifact_sha256", "pipeline_sha256", "serving")


@dataclass(frozen=True)
class TrainedVersion:
    """A version trained by the real pipeline: its artifact files and registry fields."""

    model: str
    files: dict[str, bytes]
    fields: dict[str, Any]


def train_once() -> dict[str, TrainedVersion]:
    """Run the pipeline once (both models, all at once) and keep what it produced."""
    trained = {}
    with LocalCloud(config_with(Path(_tmp_dir()), {}), functions_dir=REPO / "functions") as cloud:
        for model, (path, _) in DATASETS.items():
            cloud.drop(path, model)
        cloud.run_until_idle()
        registry = registry_of(cloud)
        for model in DATASETS:
            version = registry.get_version(model, 1)
            prefix = model_prefix(model, 1)
            files = {key[len(prefix):]: cloud.clients.s3.get_object(Bucket=cloud.settings.artifact_bucket,
                                                                     Key=key)["Body"].read()
                     for key in _keys(cloud, prefix)}
            trained[model] = TrainedVersion(model, files, {name: getattr(version, name) for name in COPIED_FIELDS})
    return trained


def config_with(directory: Path, deployments: dict[str, dict[str, Any]]) -> Path:
    """sluice.toml with each model's ``[models.<name>.deployment]`` table replaced by ``deployments`` (and its
    searches bounded by trial count only, see ``trials_only``)."""
    text = trials_only(CONFIG.read_text())
    for model in DATASETS:
        text = re.sub(rf"(?ms)^\[models\.{re.escape(model)}\.deployment\]\n.*?(?=^\[|\Z)", "", text)
    for model, table in deployments.items():
        text += f"\n[models.{model}.deployment]\n" + "".join(f"{key} = {_toml(value)}\n"
                                                           for key, value in table.items())
    path = directory / "sluice.toml"
    path.write_text(text)
    return path


def registry_of(cloud: LocalCloud) -> DynamoDBRegistry:
    return DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)


def approved(cloud: LocalCloud, trained: TrainedVersion, *, corrupt: bool = False) -> int:
    """Register a copy of ``trained`` as the next approved version (``corrupt``: its model file is damaged)."""
    registry = registry_of(cloud)
    claimed = registry.claim_version(trained.model, data_version="d", code_version="test", lineage={},
                                     actor="test", correlation_id="seed")
    prefix = model_prefix(trained.model, claimed.version)
    for name, body in trained.files.items():
        if corrupt and name.endswith((".onnx", ".pkl", ".joblib")):
            body = b"not a model" + body[:64]
        cloud.clients.s3.put_object(Bucket=cloud.settings.artifact_bucket, Key=prefix + name, Body=body)
    registry.transition(trained.model, claimed.version, to=Status.CANDIDATE, reason="seeded", actor="test",
                        correlation_id="seed", fields={**trained.fields, "artifact_prefix": prefix})
    registry.transition(trained.model, claimed.version, to=Status.APPROVED, reason="seeded", actor="test",
                        correlation_id="seed")
    return claimed.version


def deploy(cloud: LocalCloud, model: str, version: int) -> dict[str, Any]:
    """Deliver the ModelEvaluated (approved) event of ``version`` to deploy_model, as the bus would."""
    event = load_event("model_evaluated_approved.json")
    event["detail"].update({"model": model, "version": version, "correlation_id": f"release-{model}-{version}"})
    result: dict[str, Any] = cloud.invoke("deploy_model", event)
    cloud.run_until_idle()
    return result


def live_with(cloud: LocalCloud, trained: TrainedVersion) -> int:
    """A first version, released all at once (nothing live to compare with)."""
    version = approved(cloud, trained)
    assert deploy(cloud, trained.model, version)["outcome"] == "deployed"
    return version


def traffic(cloud: LocalCloud, model: str, requests: int) -> Counter[str]:
    """Send ``requests`` predictions through the endpoint; count the model versions that answered (or errors)."""
    path, target = DATASETS[model]
    features, _ = samples.instances(path, target, 3, start=40)
    answered: Counter[str] = Counter()
    for _ in range(requests):
        response = cloud.predict(model, features)
        answered[response.body.get("model_version", f"HTTP {response.status}")] += 1
    return answered


def check(cloud: LocalCloud, model: str) -> dict[str, Any]:
    """Fire the model's deployment-check schedule; the result of its release (or of a queued start)."""
    (result,) = cloud.fire_schedule(model, "deployment-check")
    cloud.run_until_idle()
    releases = [release for release in result["releases"] if release["model"] == model]
    return releases[0] if releases else {"outcome": "idle"}


def events(cloud: LocalCloud, name: str, kind: str = "event") -> list[dict[str, Any]]:
    return [entry.detail for entry in cloud.timeline if entry.kind == kind and entry.name == name]


def notifications(cloud: LocalCloud) -> list[str]:
    return [entry.name for entry in cloud.timeline if entry.kind == "notify"]


def weights(cloud: LocalCloud, model: str) -> tuple[str, dict[str, float]]:
    alias = cloud.live_alias(cloud.settings.names.predict_function(model))
    assert alias is not None
    return str(alias["FunctionVersion"]), dict((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
                                                or {})


def _keys(cloud: LocalCloud, prefix: str) -> list[str]:
    pages = cloud.clients.s3.get_paginator("list_objects_v2").paginate(Bucket=cloud.settings.artifact_bucket,
                                                                       Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_toml(inner)}" for key, inner in value.items()) + " }"
    return repr(value)


def _tmp_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="sluice-releases-")
