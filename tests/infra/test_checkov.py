"""checkov on the synthesized templates: every failed check is listed in infra/checkov-skips.yaml with its reason.

checkov pins libraries the project's venv cannot share (boto3, packaging), so it lives in its own venv:
``make checkov`` builds build/tools/checkov; ``SLUICE_CHECKOV=/path/to/python`` points at another interpreter
that has it. Without either the test is skipped, saying so.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk import App

from tests.infra.conftest import REPO, Synth

SKIPS_FILE = REPO / "infra" / "checkov-skips.yaml"
CHECKOV_PYTHON = Path(os.environ.get("SLUICE_CHECKOV", REPO / "build" / "tools" / "checkov" / "bin" / "python"))


def _skips() -> dict[str, dict[str, Any]]:
    skips: dict[str, dict[str, Any]] = yaml.safe_load(SKIPS_FILE.read_text())
    return skips


@pytest.fixture(scope="module")
def findings(synth: Synth) -> list[tuple[str, str]]:
    """(check id, "<type>.<logical id>") of every failed check on the stage's templates."""
    if not CHECKOV_PYTHON.is_file():
        pytest.skip(f"checkov is not installed ({CHECKOV_PYTHON} is missing): `make checkov` installs it")
    app = synth.stack.node.root
    assert isinstance(app, App)
    outdir = Path(app.synth().directory)
    templates = sorted(outdir.glob("*.template.json"))
    assert len(templates) == 1 + len(synth.nested)
    command = [str(CHECKOV_PYTHON), "-m", "checkov.main", "--framework", "cloudformation", "--output", "json",
               "--quiet", "--compact", "--skip-download", *(arg for t in templates for arg in ("-f", str(t)))]
    run = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    assert run.returncode in (0, 1), run.stderr[-2000:]  # 1: failed checks, listed in the report
    reports = json.loads(run.stdout)
    found = []
    for report in reports if isinstance(reports, list) else [reports]:
        found += [(check["check_id"], check["resource"]) for check in report["results"]["failed_checks"]]
    return found


def test_every_checkov_finding_is_listed_with_its_reason(findings: list[tuple[str, str]]) -> None:
    # GIVEN checkov's failed checks on the stage's templates
    skips = _skips()
    # THEN each one is listed in infra/checkov-skips.yaml, for a resource its globs match
    unlisted = sorted({(check, resource) for check, resource in findings
                       if not any(fnmatch.fnmatchcase(resource, glob)
                                  for glob in skips.get(check, {}).get("resources", []))})
    assert unlisted == [], "fix these or list them in infra/checkov-skips.yaml with a reason"
    # AND no entry is stale: each still matches a finding
    assert sorted({check for check, _ in findings}) == sorted(skips)


def test_every_skip_has_a_reason_and_the_readme_counts_them() -> None:
    skips = _skips()
    for check, entry in skips.items():
        assert re.fullmatch(r"CKV_AWS_\d+", check), check
        assert entry["resources"] and len(entry["reason"]) > 60, check
    readme = (REPO / "infra" / "README.md").read_text()
    assert f"{len(skips)} checkov checks" in readme
