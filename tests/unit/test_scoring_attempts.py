"""score_batch's start of a file's scoring execution: a duplicate start starts nothing, an execution that ended
without a result is followed by the next attempt under its own name (Step Functions' API, stubbed)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sluice.scoring.jobs import ScoringJob
from sluice.scoring.parts import Part, Plan
from sluice.steps.score_parts import MAX_ATTEMPTS, attempt_name, execution_arn, start_job

MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:sluice-dev-score-parts"
JOB = ScoringJob(model="churn", version=3, artifact_sha256="ab" * 32, source="score/churn/big.csv", etag="e1",
                 prefix="scored/churn/big-0123456789abcdef/v3/", parts=2)
PLAN = Plan((Part(index=0, start=10, end=500), Part(index=1, start=500, end=900)), header_end=10)


def _refused(stubber: Stubber, name: str) -> None:
    stubber.add_client_error("start_execution", service_error_code="ExecutionAlreadyExists",
                             http_status_code=400, expected_params={"stateMachineArn": MACHINE, "name": name,
                                                                    "input": _any()})


def _described(stubber: Stubber, name: str, status: str) -> None:
    stubber.add_response("describe_execution", {
        "executionArn": execution_arn(MACHINE, name), "stateMachineArn": MACHINE, "status": status,
        "startDate": "2026-12-07T10:00:00Z"}, {"executionArn": execution_arn(MACHINE, name)})


def _started(stubber: Stubber, name: str) -> None:
    stubber.add_response("start_execution", {"executionArn": execution_arn(MACHINE, name),
                                             "startDate": "2026-12-07T10:00:00Z"},
                         {"stateMachineArn": MACHINE, "name": name, "input": _any()})


def _any() -> Any:
    from botocore.stub import ANY

    return ANY


@pytest.fixture
def stepfunctions() -> Any:
    return boto3.client("stepfunctions", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_the_first_start_uses_the_jobs_name(stepfunctions: Any) -> None:
    with Stubber(stepfunctions) as stubber:
        _started(stubber, JOB.execution_name)
        result = start_job(stepfunctions, MACHINE, JOB, PLAN)
        stubber.assert_no_pending_responses()
    assert result["outcome"] == "scoring_in_parts" and result["attempt"] == 1 and result["parts"] == 2


@pytest.mark.parametrize("status", ["RUNNING", "SUCCEEDED", "PENDING_REDRIVE"])
def test_a_duplicate_start_of_a_running_or_finished_execution_starts_nothing(stepfunctions: Any, status: str) -> None:
    # GIVEN the file's execution exists and has not ended without a result
    with Stubber(stepfunctions) as stubber:
        _refused(stubber, JOB.execution_name)
        _described(stubber, JOB.execution_name, status)
        # WHEN S3's event arrives again
        result = start_job(stepfunctions, MACHINE, JOB, PLAN)
        stubber.assert_no_pending_responses()
    # THEN nothing starts
    assert result == {"outcome": "already_scoring", "model": "churn", "version": 3,
                      "execution": JOB.execution_name, "status": status}


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_an_execution_that_ended_without_a_result_is_followed_by_the_next_attempt(stepfunctions: Any,
                                                                                  status: str) -> None:
    # GIVEN the file's first execution ended without a result
    second = attempt_name(JOB.execution_name, 2)
    with Stubber(stepfunctions) as stubber:
        _refused(stubber, JOB.execution_name)
        _described(stubber, JOB.execution_name, status)
        _started(stubber, second)
        # WHEN the file is dropped again
        result = start_job(stepfunctions, MACHINE, JOB, PLAN)
        stubber.assert_no_pending_responses()
    # THEN the second attempt starts under its own name
    assert result["outcome"] == "scoring_in_parts" and result["attempt"] == 2
    assert result["execution"] == execution_arn(MACHINE, second)


def test_after_the_last_attempt_ended_without_a_result_it_gives_up_with_a_reason(stepfunctions: Any) -> None:
    with Stubber(stepfunctions) as stubber:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            _refused(stubber, attempt_name(JOB.execution_name, attempt))
            _described(stubber, attempt_name(JOB.execution_name, attempt), "FAILED")
        result = start_job(stepfunctions, MACHINE, JOB, PLAN)
        stubber.assert_no_pending_responses()
    assert result["outcome"] == "gave_up" and f"{MAX_ATTEMPTS} times" in result["reason"]


def test_attempt_names_are_distinct_and_within_step_functions_80_characters() -> None:
    long_name = "x" * 80
    names = [attempt_name(long_name, attempt) for attempt in range(1, MAX_ATTEMPTS + 1)]
    assert len(set(names)) == MAX_ATTEMPTS and all(len(name) <= 80 for name in names)
    assert names[1].endswith("-a2")


def test_an_executions_arn_is_its_machines_with_its_name() -> None:
    assert execution_arn(MACHINE, "n1") == "arn:aws:states:eu-west-1:123456789012:execution:sluice-dev-score-parts:n1"
