"""cdk-nag (AwsSolutions and Serverless packs) finds nothing unacknowledged; cfn-lint finds nothing at all.

Every acknowledgment lives in infra/nag_suppressions.py with its reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint

from infra.nag_suppressions import CFN_LINT_IGNORED, nag_packs
from tests.infra.conftest import REPO, Synth

PACKS = {type(pack).__name__: pack for pack in nag_packs()}


def test_the_app_runs_the_aws_solutions_and_serverless_packs() -> None:
    assert set(PACKS) == {"AwsSolutionsChecks", "ServerlessChecks"}
    assert "add_plugins(*nag_packs(app))" in (REPO / "infra" / "app.py").read_text()


@pytest.mark.parametrize("pack_name", sorted(PACKS))
def test_nag_pack_reports_no_errors_and_no_warnings(synth: Synth, pack_name: str) -> None:
    # GIVEN the stack with its acknowledgments WHEN the pack validates it
    report = PACKS[pack_name].validate_scope(synth.stack)
    # THEN there is no violation at all (errors or warnings)
    findings = [
        (violation.severity, violation.rule_name, [r.construct_path for r in violation.violating_resources])
        for violation in report.violations
    ]
    assert findings == []
    assert report.success


def test_acknowledgments_live_only_in_nag_suppressions() -> None:
    for path in (REPO / "infra").rglob("*.py"):
        if path.name != "nag_suppressions.py":
            assert "acknowledge(" not in path.read_text(), path


def test_cfn_lint_finds_nothing_in_the_synthesized_template(synth: Synth, tmp_path: Path) -> None:
    # GIVEN the templates the fixture synthesized (the stage's stack and its model stacks), as CloudFormation
    # receives them
    templates = [synth.template, *synth.nested.values()]
    assert len(templates) > 1
    # WHEN cfn-lint (pinned) checks them in the regions sluice documents
    config = ManualArgs(regions=["us-east-1", "eu-west-1"], ignore_checks=sorted(CFN_LINT_IGNORED))
    matches = [match for template in templates for match in lint(json.dumps(template.to_json()), config=config)]
    # THEN it reports no error and no warning (cfn-lint's default checks; informational ones are style)
    assert [f"{match.rule.id} {match.message}" for match in matches] == []


def test_every_cfn_lint_exception_has_its_reason() -> None:
    assert all(rule[0] in "EWI" and len(reason) > 40 for rule, reason in CFN_LINT_IGNORED.items())
