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
        template: dict[str, Any] = synthesize(Path(tmp)).template.to_json()
    return template


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
