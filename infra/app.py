"""CDK entry point: ``npx cdk synth [-c stage=prod]`` builds the stack ``Sluice-<stage>``.

Context: ``stage`` (dev, prod; cdk.json defaults to dev) and optionally ``serving_deps_dir``
(default build/layers/serving-deps, built by ``make layers``).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0]).resolve() == _REPO_ROOT / "infra":
    sys.path[0] = str(_REPO_ROOT)  # run as a script: import infra.* from the repo root, shadow nothing

from aws_cdk import App, Validations  # noqa: E402

from infra.assets import BuildInputs, PackagingError  # noqa: E402
from infra.nag_suppressions import acknowledge_nag_findings, nag_packs  # noqa: E402
from infra.stack import SluiceStack  # noqa: E402
from infra.stages import StageError, stage_named  # noqa: E402
from sluice.config import load_config  # noqa: E402


def build(app: App, *, inputs: BuildInputs | None = None) -> SluiceStack:
    """Add the stack of the stage named in the context to ``app`` (env-agnostic: no lookups)."""
    inputs = inputs or BuildInputs()
    serving_deps = app.node.try_get_context("serving_deps_dir")
    if serving_deps:
        inputs = dataclasses.replace(inputs, serving_deps_dir=Path(serving_deps))
    stage = stage_named(app.node.try_get_context("stage") or "dev")
    stack = SluiceStack(
        app, stage.stack_name, stage=stage, config=load_config(inputs.config_file).for_stage(stage.name), inputs=inputs,
        reserve_concurrency=_flag(app.node.try_get_context("reserve_concurrency"), default=False),
    )
    acknowledge_nag_findings(stack)
    return stack


def _flag(value: object, *, default: bool) -> bool:
    """A context switch (``-c name=false`` arrives as the string "false")."""
    if value is None:
        return default
    return str(value).strip().lower() not in ("false", "0", "no", "off")


def main() -> None:
    app = App()
    try:
        build(app)
    except (PackagingError, StageError) as error:
        sys.exit(f"sluice synth: {error}")
    Validations.of(app).add_plugins(*nag_packs(app))
    app.synth()


if __name__ == "__main__":
    main()
