"""The dev stack's CloudFormation template, synthesized once per test process (for the IAM-enforcing local mode)."""

from __future__ import annotations

import copy
import functools
import tempfile
from pathlib import Path
from typing import Any


@functools.cache
def _dev_template() -> dict[str, Any]:
    from tests.infra.conftest import synthesize

    with tempfile.TemporaryDirectory(prefix="sluice-synth-") as tmp:
        synth = synthesize(Path(tmp))
        return merged(synth.template.to_json(), {key: nested.to_json() for key, nested in synth.nested.items()})


def merged(stage: dict[str, Any], nested: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One template of the whole stage: each model stack's resources with its parameters replaced by what the
    stage's stack passes them (a logical id two model stacks share is suffixed with ``@<model stack>``)."""
    template = copy.deepcopy(stage)
    resources = template["Resources"]
    for stack_id, child in nested.items():
        passed = stage["Resources"][stack_id]["Properties"].get("Parameters", {})
        for key, value in _substituted(child["Resources"], passed).items():
            resources[key if key not in resources else f"{key}@{stack_id}"] = value
    return template


def _substituted(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return copy.deepcopy(parameters[value["Ref"]])
        return {key: _substituted(item, parameters) for key, item in value.items()}
    if isinstance(value, list):
        return [_substituted(item, parameters) for item in value]
    return value


def dev_template() -> dict[str, Any]:
    """A fresh copy of the synthesized dev template (callers may edit it)."""
    return copy.deepcopy(_dev_template())


def without_action(template: dict[str, Any], service_name: str, action: str) -> dict[str, Any]:
    """``template`` with ``action`` taken out of every statement of the role of the function ``service_name``."""
    resources = template["Resources"]
    (role_id,) = {props["Properties"]["Role"]["Fn::GetAtt"][0] for props in resources.values()
                  if props["Type"] == "AWS::Lambda::Function"
                  and (props["Properties"].get("Environment") or {}).get("Variables", {})
                  .get("POWERTOOLS_SERVICE_NAME") == service_name}
    removed = 0
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                kept = [a for a in actions if a != action]
                removed += len(actions) - len(kept)
                statement["Action"] = kept or ["sluice:Nothing"]
    if not removed:
        raise ValueError(f"{service_name}'s role has no {action} to remove")
    return template
