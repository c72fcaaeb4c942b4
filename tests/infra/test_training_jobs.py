"""The SageMaker training jobs in the synthesized stage: the job role of a model whose training may run there
(sluice.toml: breast-cancer has backend "auto", diabetes "lambda"), train_model's right to start jobs, the rule
that brings their end back."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.conftest import Synth, function_of, sluice_functions


def _statements(synth: Synth, role_id: str) -> list[dict[str, Any]]:
    return [statement for policy in synth.of_type("AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _role_named(synth: Synth, name: str) -> str | None:
    found = [key for key, role in synth.of_type("AWS::IAM::Role").items() if role["Properties"].get("RoleName") == name]
    return found[0] if found else None


def test_a_job_role_exists_only_for_models_whose_training_may_run_on_sagemaker(synth: Synth) -> None:
    role_id = _role_named(synth, "sluice-dev-breast-cancer-train-job")
    assert role_id is not None and _role_named(synth, "sluice-dev-diabetes-train-job") is None
    trust = synth.resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [statement["Principal"] for statement in trust] == [{"Service": "sagemaker.amazonaws.com"}]


def test_the_job_role_reads_its_accepted_data_writes_its_artifacts_logs_and_pulls_the_image(synth: Synth) -> None:
    role_id = _role_named(synth, "sluice-dev-breast-cancer-train-job")
    assert role_id is not None
    statements = _statements(synth, role_id)
    text = json.dumps(statements)
    assert "/accepted/breast-cancer/*" in text and "/models/breast-cancer/*" in text
    assert "/incoming/" not in text and "/models/*" not in text and "diabetes" not in text
    writes = [s for s in statements if "s3:PutObject" in _actions(s)]
    assert writes and all("/models/breast-cancer/*" in json.dumps(s["Resource"]) for s in writes)
    assert any("logs:PutLogEvents" in _actions(s) and "/aws/sagemaker/TrainingJobs:*" in json.dumps(s["Resource"])
               for s in statements)
    assert any("ecr:BatchGetImage" in _actions(s) for s in statements)


def test_train_model_starts_only_its_stages_jobs_and_passes_only_their_roles_to_sagemaker(synth: Synth) -> None:
    (train,) = [props for props in sluice_functions(synth).values()
                if props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "train_model"]
    variables = train["Environment"]["Variables"]
    assert "SLUICE_JOB_IMAGE" in variables and "sluice-dev-{model}-train-job" in json.dumps(
        variables["SLUICE_JOB_ROLE_ARN"])
    statements = _statements(synth, train["Role"]["Fn::GetAtt"][0])
    (create,) = [s for s in statements if "sagemaker:CreateTrainingJob" in _actions(s)]
    assert "training-job/sluice-dev-train-*" in json.dumps(create["Resource"])
    (passing,) = [s for s in statements if "iam:PassRole" in _actions(s)]
    assert "role/sluice-dev-*-train-job" in json.dumps(passing["Resource"])
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_the_end_of_a_training_job_is_routed_to_train_model_from_the_default_bus(synth: Synth) -> None:
    rules = [rule["Properties"] for rule in synth.of_type("AWS::Events::Rule").values()
             if (rule["Properties"].get("EventPattern") or {}).get("source") == ["aws.sagemaker"]]
    (rule,) = rules
    assert "EventBusName" not in rule
    pattern = rule["EventPattern"]
    assert pattern["detail-type"] == ["SageMaker Training Job State Change"]
    assert pattern["detail"]["TrainingJobName"] == [{"prefix": "sluice-dev-train-"}]
    assert sorted(pattern["detail"]["TrainingJobStatus"]) == ["Completed", "Failed", "Stopped"]
    (target,) = rule["Targets"]
    assert function_of(synth, target["Arn"]) == "train_model"
