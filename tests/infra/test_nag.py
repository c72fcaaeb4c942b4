"""cdk-nag (AwsSolutions) finds nothing unacknowledged; acknowledgments live in one place with reasons."""

from __future__ import annotations

from cdk_nag import AwsSolutionsChecks

from tests.infra.conftest import REPO, Synth


def test_aws_solutions_checks_report_no_errors_and_no_warnings(synth: Synth) -> None:
    # GIVEN the stack with its acknowledgments WHEN the AwsSolutions pack validates it
    report = AwsSolutionsChecks().validate_scope(synth.stack)
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
