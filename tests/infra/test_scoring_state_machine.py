"""The scoring state machine: the template's definition is the wiring's (sluice.wiring.state_machines), as is the
one the local stack stores on moto; score_batch may start it and nothing else may; its role invokes score_part."""

from __future__ import annotations

import json
from typing import Any

from sluice.local import LocalCloud
from sluice.local.provision import function_arn
from sluice.scoring.jobs import STATE_MACHINE_ENV
from sluice.wiring.state_machines import SCORE_PARTS
from tests.infra.conftest import REPO, Synth, sluice_functions

PLACEHOLDER = "<score_part>"


def rendered(join: Any, functions: dict[str, str]) -> dict[str, Any]:
    """A DefinitionString (Fn::Join) with each function's GetAtt as its name and the partition as ``aws``."""
    parts = join["Fn::Join"][1]
    text = "".join(part if isinstance(part, str) else functions.get(part.get("Fn::GetAtt", [""])[0], "aws")
                   if "Fn::GetAtt" in part else "aws" for part in parts)
    document: dict[str, Any] = json.loads(text)
    return document


def the_machine(synth: Synth) -> tuple[str, dict[str, Any]]:
    (logical_id, machine), = synth.of_type("AWS::StepFunctions::StateMachine").items()
    return logical_id, machine["Properties"]


def service_ids(synth: Synth) -> dict[str, str]:
    return {key: props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
            for key, props in sluice_functions(synth).items()}


def test_the_template_declares_the_wirings_distributed_map_over_score_part(synth: Synth) -> None:
    # GIVEN the synthesized stage WHEN its state machine's definition is read back
    _, machine = the_machine(synth)
    names = {key: PLACEHOLDER if service == "score_part" else service for key, service in service_ids(synth).items()}
    # THEN it is the wiring's definition, task for task
    assert rendered(machine["DefinitionString"], names) == SCORE_PARTS.definition(lambda _: PLACEHOLDER)
    assert machine["StateMachineName"] == "sluice-dev-score-parts" and machine["StateMachineType"] == "STANDARD"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"


def test_only_score_batch_may_start_it_and_it_invokes_only_score_part(synth: Synth) -> None:
    logical_id, machine = the_machine(synth)
    services = service_ids(synth)
    starters, invoked = set(), set()
    for policy in synth.of_type("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if "states:StartExecution" in actions and {"Ref": logical_id} in resources:
                starters.update(role["Ref"] for role in policy["Properties"]["Roles"])
            if "lambda:InvokeFunction" in actions and machine["RoleArn"]["Fn::GetAtt"][0] in [
                    role["Ref"] for role in policy["Properties"]["Roles"]]:
                invoked.update(services[resource["Fn::GetAtt"][0]] for resource in resources
                               if "Fn::GetAtt" in resource)
    roles = {props["Role"]["Fn::GetAtt"][0]: services[key] for key, props in sluice_functions(synth).items()}
    assert {roles.get(role, role) for role in starters} == {"score_batch", machine["RoleArn"]["Fn::GetAtt"][0]}
    assert invoked == {"score_part"}
    (score_batch,) = [props for key, props in sluice_functions(synth).items() if services[key] == "score_batch"]
    assert score_batch["Environment"]["Variables"][STATE_MACHINE_ENV] == {"Ref": logical_id}


def test_the_local_stack_stores_the_same_definition_and_tells_score_batch(tmp_path: Any) -> None:
    with LocalCloud(REPO / "sluice.toml", functions_dir=REPO / "functions") as cloud:
        arn = cloud.provisioned.state_machines[SCORE_PARTS.kind]
        stored = json.loads(cloud.clients.stepfunctions.describe_state_machine(stateMachineArn=arn)["definition"])
        assert stored == SCORE_PARTS.definition(lambda function: function_arn(cloud.settings, function))
        assert cloud._function_env("score_batch")[STATE_MACHINE_ENV] == arn


def test_score_batch_may_read_the_status_of_this_machines_executions_only(synth: Synth) -> None:
    # GIVEN the synthesized stack
    logical_id, _ = the_machine(synth)
    services = service_ids(synth)
    roles = {props["Role"]["Fn::GetAtt"][0]: services[key] for key, props in sluice_functions(synth).items()}
    described: list[tuple[str, Any]] = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "states:DescribeExecution" in actions:
                described += [(roles.get(role["Ref"], role["Ref"]), statement["Resource"])
                              for role in policy["Properties"]["Roles"]]
    # THEN score_batch (which starts a file's next attempt when the last ended without a result) may describe
    # the executions of the scoring machine, named by the machine's own name, and nothing broader
    by_score_batch = [resource for role, resource in described if role == "score_batch"]
    assert len(by_score_batch) == 1, described
    rendered_resource = json.dumps(by_score_batch[0])
    assert ":execution:" in rendered_resource and logical_id in rendered_resource
    assert by_score_batch[0]["Fn::Join"][1][-1] == ":*", by_score_batch
