"""The sample CI/CD files for users' own repositories parse and run tests, synth (with cdk-nag) and deploy."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.infra.conftest import REPO

CICD = REPO / "infra" / "cicd"


def _scripts(value: Any) -> str:
    """Every command string anywhere in a parsed pipeline."""
    if isinstance(value, str):
        return value + "\n"
    if isinstance(value, dict):
        return "".join(_scripts(item) for item in value.values())
    if isinstance(value, list):
        return "".join(_scripts(item) for item in value)
    return ""


def test_github_actions_sample_tests_then_deploys_main_with_oidc() -> None:
    workflow = yaml.safe_load((CICD / "github-actions.yml").read_text())
    assert set(workflow["jobs"]) == {"test", "deploy"}
    assert workflow["jobs"]["deploy"]["needs"] == "test"
    assert workflow["permissions"]["id-token"] == "write"
    commands = _scripts(workflow["jobs"])
    assert "make test" in commands and "make synth" in commands and "make deploy STAGE=prod" in commands


def test_gitlab_sample_tests_then_deploys_the_default_branch() -> None:
    pipeline = yaml.safe_load((CICD / "gitlab-ci.yml").read_text())
    assert pipeline["stages"] == ["test", "deploy"]
    assert pipeline["deploy"]["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    commands = _scripts(pipeline)
    assert "make test" in commands and "make synth" in commands and "make deploy STAGE=prod" in commands


def test_the_gitlab_deploy_job_can_build_the_image() -> None:
    # GIVEN the deploy job, whose `cdk deploy` builds the ML functions' image with Docker
    deploy = yaml.safe_load((CICD / "gitlab-ci.yml").read_text())["deploy"]
    commands = _scripts(deploy["script"])
    # THEN its job image gets a docker CLI before deploying
    assert commands.index("install -y -qq docker.io") < commands.index("make deploy")
    # AND it reaches the dind service where dind listens: plain TCP on 2375 needs TLS turned off
    (service,) = deploy["services"]
    assert service.startswith("docker:") and service.endswith("dind")
    assert deploy["variables"]["DOCKER_HOST"] == "tcp://docker:2375"
    assert deploy["variables"]["DOCKER_TLS_CERTDIR"] == ""


@pytest.mark.parametrize("sample", ["github-actions.yml", "gitlab-ci.yml"])
def test_both_samples_deploy_to_a_new_account(sample: str) -> None:
    # GIVEN every deploy command of a sample
    commands = [line for line in _scripts(yaml.safe_load((CICD / sample).read_text())).splitlines()
                if "make deploy" in line]
    # THEN each passes the context a new account needs: no reserved concurrency (default quota of 10)
    assert commands and all("-c reserve_concurrency=false" in line for line in commands)
    # AND the flag is one the app reads
    assert 'try_get_context("reserve_concurrency")' in (REPO / "infra" / "app.py").read_text()


def test_the_samples_are_not_this_repositorys_own_ci() -> None:
    assert not (REPO / ".github" / "workflows" / "github-actions.yml").exists()
    assert not (REPO / ".gitlab-ci.yml").exists()


def test_the_smoke_sample_runs_make_smoke_on_a_throwaway_stage_with_oidc() -> None:
    import re

    from sluice.naming import THROWAWAY_STAGE_PATTERN

    workflow = yaml.safe_load((CICD / "github-actions-smoke.yml").read_text())
    assert set(workflow["jobs"]) == {"smoke"}
    assert workflow["permissions"]["id-token"] == "write"
    assert workflow["concurrency"]["cancel-in-progress"] is False
    (command,) = [line for line in _scripts(workflow["jobs"]).splitlines() if "make smoke" in line]
    # the stage it names is a throwaway one for every run number (x + 3 digits)
    assert "SMOKE_STAGE=x$(printf '%03d' $(( GITHUB_RUN_NUMBER % 1000 )))" in command
    assert all(re.match(THROWAWAY_STAGE_PATTERN, f"x{number % 1000:03d}") for number in (1, 999, 1000, 123456))
