"""The synthesized stack, built once for all infra tests (tmp serving-deps layer, tmp outdir)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from infra.app import build
from infra.assets import BuildInputs
from infra.stack import SluiceStack

REPO = Path(__file__).resolve().parents[2]


def cdk_context(**overrides: Any) -> dict[str, Any]:
    """The context of cdk.json (feature flags, default stage) plus ``overrides``, as `cdk synth` sees it."""
    context: dict[str, Any] = json.loads((REPO / "cdk.json").read_text())["context"]
    return {**context, **overrides}


def fake_serving_deps(root: Path) -> Path:
    """A stand-in for build/layers/serving-deps (the real one is built by `make layers`)."""
    package = root / "python" / "numpy"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("# stand-in\n")
    return root


@dataclass(frozen=True)
class Synth:
    """A synthesized stack, its template and the templates of its model stacks (keyed by their logical id)."""

    stack: SluiceStack
    template: Template
    nested: dict[str, Template] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """Every resource of the stage: the stack's, then the model stacks' with their parameters replaced by what
        the stack passes them (a logical id two model stacks share, like their alias provider's, is suffixed with
        ``@<model stack>`` from the second on)."""
        from tests.infra.synthesized import merged

        stage = self.template.to_json()
        return dict(merged(stage, {key: nested.to_json() for key, nested in self.nested.items()})["Resources"])

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in self.resources.items() if value["Type"] == resource_type}

    def in_stage(self, value: Any) -> Any:
        """``value`` as the stage's stack spells it: a model stack's parameter becomes what the stack passes."""
        if isinstance(value, dict) and set(value) == {"Ref"}:
            for stack_id in self.nested:
                parameters = self.template.to_json()["Resources"][stack_id]["Properties"].get("Parameters", {})
                if value["Ref"] in parameters:
                    return parameters[value["Ref"]]
        return value

    def output_value(self, value: Any) -> Any:
        """A stack output's value, followed into the model stack whose output it re-exports."""
        target = value.get("Fn::GetAtt") if isinstance(value, dict) else None
        if target and target[0] in self.nested and target[1].startswith("Outputs."):
            return self.nested[target[0]].to_json()["Outputs"][target[1].removeprefix("Outputs.")]["Value"]
        return value


def synthesize(tmp: Path, *, config: Path | None = None, **context: Any) -> Synth:
    """Build the app exactly as infra/app.py does, offline, into ``tmp`` (``config``: another sluice.toml)."""
    inputs = BuildInputs(serving_deps_dir=fake_serving_deps(tmp / "serving-deps"), staging_dir=tmp / "staging",
                         config_path=config)
    app = App(outdir=str(tmp / "cdk.out"), context=cdk_context(**context))
    stack = build(app, inputs=inputs)
    nested = {stack.get_logical_id(model_stack.nested_stack_resource): Template.from_stack(model_stack)
              for model_stack in stack.model_stacks.values() if model_stack.nested_stack_resource is not None}
    return Synth(stack=stack, template=Template.from_stack(stack), nested=nested)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The dev stack, synthesized once per test session."""
    return synthesize(tmp_path_factory.mktemp("synth-dev"))


def sluice_functions(synth: Synth) -> dict[str, dict[str, Any]]:
    """The template's sluice functions (logical id → properties), not CDK's helper functions."""
    return {
        key: value["Properties"]
        for key, value in synth.of_type("AWS::Lambda::Function").items()
        if "SLUICE_PREFIX" in value["Properties"].get("Environment", {}).get("Variables", {})
    }


def function_of(synth: Synth, target_arn: Any) -> str:
    """The FunctionSpec name of the function a rule target points at (via its service name)."""
    target_arn = synth.in_stage(target_arn)
    assert isinstance(target_arn, dict) and set(target_arn) == {"Fn::GetAtt"}, target_arn
    logical_id, attribute = target_arn["Fn::GetAtt"]
    assert attribute == "Arn"
    variables = synth.resources[logical_id]["Properties"]["Environment"]["Variables"]
    service: str = variables["POWERTOOLS_SERVICE_NAME"]
    return service
