"""The SageMaker validation jobs in a synthesized stage whose breast-cancer validates drops above 512 MB in a
processing job: the stage's job role (incoming/ in, validation/ out), validate_dataset's right to start its jobs and
pass only that role, the rule that brings their end back, cdk-nag clean; none of it when no model asks for it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.nag_suppressions import nag_packs
from tests.infra.conftest import REPO, Synth, function_of, sluice_functions, synthesize
from tests.infra.test_training_jobs import _actions, _role_named, _statements

MODEL = "breast-cancer"


@pytest.fixture(scope="module")
def validating(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    folder = tmp_path_factory.mktemp("synth-validating")
    text = (REPO / "sluice.toml").read_text()
    head = f"[models.{MODEL}.data]\n"
    assert head in text
    config = folder / "sluice.toml"
    config.write_text(text.replace(head, f"{head}processing_job_above_mb = 512\n", 1))
    return synthesize(folder / "out", config=config)


def _validation_rules(synth: Synth) -> list[dict[str, Any]]:
    return [rule["Properties"] for rule in synth.of_type("AWS::Events::Rule").values()
            if (rule["Properties"].get("EventPattern") or {}).get("detail-type")
            == ["SageMaker Processing Job State Change"]]


def test_the_validation_job_role_reads_incoming_writes_validation_logs_and_pulls_the_image(validating: Synth
                                                                                           ) -> None:
    role_id = _role_named(validating, "sluice-dev-validate-job")
    assert role_id is not None
    trust = validating.resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [statement["Principal"] for statement in trust] == [{"Service": "sagemaker.amazonaws.com"}]
    statements = _statements(validating, role_id)
    reads = [s for s in statements if "s3:GetObject" in _actions(s)]
    assert reads and all("/incoming/*" in json.dumps(s["Resource"]) for s in reads)
    writes = [s for s in statements if "s3:PutObject" in _actions(s)]
    assert writes and all("/validation/*" in json.dumps(s["Resource"]) for s in writes)
    text = json.dumps(statements)
    assert "/accepted/" not in text and "/rejected/" not in text and "/models/" not in text
    assert any("logs:PutLogEvents" in _actions(s) and "/aws/sagemaker/ProcessingJobs:*" in json.dumps(s["Resource"])
               for s in statements)
    assert any("ecr:BatchGetImage" in _actions(s) for s in statements)


def test_validate_dataset_starts_only_its_stages_jobs_and_passes_only_their_role(validating: Synth) -> None:
    (validate,) = [props for props in sluice_functions(validating).values()
                   if props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "validate_dataset"]
    variables = validate["Environment"]["Variables"]
    assert "SLUICE_JOB_IMAGE" in variables and "SLUICE_VALIDATION_ROLE_ARN" in variables
    statements = _statements(validating, validate["Role"]["Fn::GetAtt"][0])
    (create,) = [s for s in statements if "sagemaker:CreateProcessingJob" in _actions(s)]
    assert "processing-job/sluice-dev-validate-*" in json.dumps(create["Resource"])
    (passing,) = [s for s in statements if "iam:PassRole" in _actions(s)]
    role_id = _role_named(validating, "sluice-dev-validate-job")
    assert passing["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    assert any("s3:GetObject" in _actions(s) and "/validation/*" in json.dumps(s["Resource"]) for s in statements)


def test_the_end_of_a_validation_job_is_routed_to_validate_dataset_from_the_default_bus(validating: Synth) -> None:
    (rule,) = _validation_rules(validating)
    assert "EventBusName" not in rule
    pattern = rule["EventPattern"]
    assert pattern["detail"]["ProcessingJobName"] == [{"prefix": "sluice-dev-validate-"}]
    assert sorted(pattern["detail"]["ProcessingJobStatus"]) == ["Completed", "Failed", "Stopped"]
    (target,) = rule["Targets"]
    assert function_of(validating, target["Arn"]) == "validate_dataset"


@pytest.mark.parametrize("pack", nag_packs(), ids=lambda pack: type(pack).__name__)
def test_the_validating_stage_is_nag_clean(validating: Synth, pack: Any) -> None:
    report = pack.validate_scope(validating.stack)
    assert [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations] == []


def test_none_of_it_where_no_model_validates_on_sagemaker(synth: Synth) -> None:
    # GIVEN sluice.toml as shipped (no processing_job_above_mb)
    assert _role_named(synth, "sluice-dev-validate-job") is None and _validation_rules(synth) == []
    (validate,) = [props for props in sluice_functions(synth).values()
                   if props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "validate_dataset"]
    assert "SLUICE_VALIDATION_ROLE_ARN" not in validate["Environment"]["Variables"]
