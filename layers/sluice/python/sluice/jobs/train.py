"""The SageMaker training job's entrypoint (``python -m sluice.jobs.train``): the same training as train_model's,
from SageMaker's filesystem contract (``sluice.jobs.spec``) into ``/opt/ml/model``.

``SLUICE_SAGEMAKER_ROOT`` moves ``/opt/ml`` (the local runtime plays the job in a temporary folder). Exit 0: the
artifacts are written; exit 1: the reason is in ``output/failure`` (SageMaker reports it as the FailureReason).
"""

from __future__ import annotations

import json
import os
import posixpath
import sys
import traceback
from pathlib import Path
from typing import Any

ROOT_ENV = "SLUICE_SAGEMAKER_ROOT"
MAX_FAILURE_CHARS = 1024
"""DescribeTrainingJob's FailureReason holds at most 1024 characters."""


def main(root: Path | None = None) -> int:
    base = root or Path(os.environ.get(ROOT_ENV, "/opt/ml"))
    try:
        summary = run(base)
    except Exception as error:  # any failure is the job's: its reason goes where SageMaker reads it
        traceback.print_exc()
        write_failure(base, f"{type(error).__name__}: {error}")
        return 1
    print(json.dumps({"trained": summary["family"], "version": summary["version"], "cv": summary["cv"]}))
    return 0


def run(base: Path) -> dict[str, Any]:
    """Train the version the hyperparameters name into ``<base>/model``; returns the training summary."""
    from sluice.config import load_config
    from sluice.steps.trained import train_into
    from sluice.storage import DirectoryStore, model_prefix

    hyperparameters: dict[str, str] = json.loads((base / "input/config/hyperparameters.json").read_text())
    model = load_config().model(hyperparameters["model"])
    version = int(hyperparameters["version"])
    data_keys: list[str] = json.loads(hyperparameters["data_keys"])
    channels: list[str] = json.loads(hyperparameters["channels"])
    roots = {posixpath.dirname(key) + "/": base / "input/data" / channel
             for key, channel in zip(data_keys, channels, strict=True)}
    for key in data_keys:
        if not DirectoryStore(roots).path(key).is_file():
            raise FileNotFoundError(f"the accepted data {key} is not in its input channel")
    facts = {"data_version": hyperparameters["data_version"], "code_version": hyperparameters["code_version"],
             "data_versions": json.loads(hyperparameters["data_versions"]),
             "window": json.loads(hyperparameters["window"])}
    artifacts = DirectoryStore({model_prefix(model.name, version): base / "model"})
    return train_into(DirectoryStore(roots), artifacts, model, version, data_keys=data_keys, facts=facts)


def write_failure(base: Path, reason: str) -> None:
    output = base / "output"
    output.mkdir(parents=True, exist_ok=True)
    (output / "failure").write_text(" ".join(reason.split())[:MAX_FAILURE_CHARS])


if __name__ == "__main__":
    sys.exit(main())
