"""The functions of a deployment and how each is packaged and sized."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sluice.config import ProjectConfig


class Packaging(StrEnum):
    """How a function ships to Lambda (see ARCHITECTURE.md, Packaging)."""

    IMAGE = "image"  # scikit-learn + pandas + pyarrow: a container image
    ZIP = "zip"  # slim: handler zip + the sluice layer + a dependency layer


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: its folder under functions/, packaging and sizing."""

    name: str
    packaging: Packaging
    memory_mb: int
    timeout_s: int
    description: str
    per_model: bool = False  # one function per configured model (the predict endpoint)
    reserved_concurrency: int | None = None  # caps parallel runs (and guarantees them) on AWS
    ephemeral_mb: int = 512  # /tmp; validate_dataset writes the normalized copy of a drop there


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec("validate_dataset", Packaging.IMAGE, 2048, 300, "Validate a dropped dataset against its contract",
                     ephemeral_mb=10240),
        FunctionSpec("train_model", Packaging.IMAGE, 3008, 900, "Train candidate families and select the best",
                     reserved_concurrency=2),
        FunctionSpec("evaluate_model", Packaging.IMAGE, 2048, 300, "Score a candidate against the live model"),
        FunctionSpec("deploy_model", Packaging.ZIP, 512, 120, "Record the version and swap the endpoint"),
        FunctionSpec("rollback_model", Packaging.ZIP, 512, 120, "Move the endpoint back to the last good model"),
        FunctionSpec("detect_drift", Packaging.IMAGE, 2048, 300, "Compare live traffic with the training baseline"),
        FunctionSpec("record_feedback", Packaging.IMAGE, 1024, 120, "Join ground truth with captured predictions"),
        FunctionSpec("score_batch", Packaging.IMAGE, 2048, 900, "Score a dropped file with a model version",
                     ephemeral_mb=10240),
        FunctionSpec("score_part", Packaging.IMAGE, 2048, 900, "Score one part of a large file, or merge the parts",
                     ephemeral_mb=10240),
        FunctionSpec("predict", Packaging.ZIP, 1024, 30, "Serve predictions through alias live", per_model=True),
    )
}


def packaging_for(spec: FunctionSpec, endpoint_package: str | None = None) -> Packaging:
    """How ``spec`` ships: a model's predict function follows that model's ``deployment.endpoint_package``."""
    if spec.name == "predict" and endpoint_package is not None:
        return Packaging(endpoint_package)
    return spec.packaging


def reserved_concurrency(config: ProjectConfig, *, reserve_training: bool = False) -> dict[tuple[str, str | None], int]:
    """Reserved concurrency per (function, model or None): predict's ``serving.max_concurrency`` (a cap),
    rollback's ``[stack] rollback_reserved_concurrency``, and the specs' own reserves only with
    ``reserve_training`` (opt-in). By default nothing is reserved: an account at the default quota (10) deploys."""
    reserved: dict[tuple[str, str | None], int] = {}
    if reserve_training:
        reserved.update({(spec.name, None): spec.reserved_concurrency for spec in FUNCTIONS.values()
                         if spec.reserved_concurrency and not spec.per_model})
    if config.stack.rollback_reserved_concurrency:
        reserved[("rollback_model", None)] = config.stack.rollback_reserved_concurrency
    for name, model in config.models.items():
        if model.serving.max_concurrency:
            reserved[("predict", name)] = model.serving.max_concurrency
    return reserved
