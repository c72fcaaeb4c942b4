"""The smoke script's target on the local stack (moto, in-process), with IAM enforced when given the template."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sluice.local import LocalCloud, ScriptedMeter
from sluice.local.iam import MISSING_KEY
from sluice.registry import DynamoDBRegistry, RegistryStore


class LocalTarget:
    """A local stack started by ``deploy`` and stopped by ``destroy``; events flow on ``settle``."""

    def __init__(self, config_path: Path, *, functions_dir: Path | None = None,
                 iam_template: Mapping[str, Any] | None = None) -> None:
        self.name = "local stack" + (" (IAM enforced)" if iam_template is not None else "")
        self._cloud = LocalCloud(config_path, functions_dir=functions_dir, meter=ScriptedMeter(),
                                 iam_template=iam_template)
        self._registry: DynamoDBRegistry | None = None

    @property
    def cloud(self) -> LocalCloud:
        return self._cloud

    def deploy(self) -> None:
        self._cloud.start()
        self._registry = DynamoDBRegistry(self._cloud.clients.dynamodb, self._cloud.settings.registry_table)

    def drop(self, model: str, name: str, body: bytes) -> None:
        self._cloud.clients.s3.put_object(Bucket=self._cloud.settings.data_bucket, Key=f"incoming/{model}/{name}",
                                          Body=body)

    def settle(self) -> None:
        self._cloud.run_until_idle(raise_errors=False)

    @property
    def registry(self) -> RegistryStore:
        if self._registry is None:
            raise RuntimeError("the local stack is not deployed")
        return self._registry

    def predict(self, model: str, instances: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        body = json.dumps({"instances": instances}).encode()
        response = self._cloud.http("POST", f"/v1/models/{model}:predict", body, {"Content-Type": "application/json"})
        return response.status, response.body

    def force_alarm(self, model: str) -> None:
        self._cloud.set_alarm(model, "errors", reason="smoke test: set-alarm-state")

    def problems(self) -> list[str]:
        """Function errors from the runtime's timeline and every IAM refusal but S3's 403 for a missing key."""
        errors = [f"{entry.name}: {entry.detail.get('error')}" for entry in self._cloud.timeline
                  if entry.kind == "error"]
        iam = self._cloud.iam
        denied = [str(check) for check in iam.denials if check.verdict != MISSING_KEY] if iam else []
        return errors + denied

    def destroy(self) -> None:
        self._cloud.stop()
