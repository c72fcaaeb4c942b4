"""No secrets in the deployment: function environments hold names and settings, never credentials."""

from __future__ import annotations

import re
from typing import Any

from tests.infra.conftest import REPO, Synth

SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE|CREDENTIAL|ACCESS_KEY", re.IGNORECASE)
SECRET_VALUE = re.compile(
    r"(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}"  # AWS access key ids
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|(?:ghp|gho|github_pat|glpat|xox[baprs])[-_][A-Za-z0-9_-]{10,}"
)
SECRET_KEY_SHAPE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])")  # an AWS secret access key


def _looks_secret(text: str) -> bool:
    """A known credential format, or a 40-character base64 run mixing cases, digits and '/' or '+'."""
    if SECRET_VALUE.search(text):
        return True
    classes = (r"[a-z]", r"[A-Z]", r"\d", r"[/+]")
    return any(all(re.search(c, token) for c in classes) for token in SECRET_KEY_SHAPE.findall(text))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_no_function_environment_holds_a_secret(synth: Synth) -> None:
    for key, resource in synth.of_type("AWS::Lambda::Function").items():
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        for name, value in variables.items():
            assert not SECRET_NAME.search(name), (key, name)
            assert not [s for s in _strings(value) if _looks_secret(s)], (key, name)


def test_the_template_holds_no_secret_looking_value(synth: Synth) -> None:
    found = [s for s in _strings(synth.template.to_json()) if _looks_secret(s)]
    assert found == []


def test_the_detector_knows_a_credential_when_it_sees_one() -> None:
    assert _looks_secret("AKIA" + "ABCDEFGHIJKLMNOP")
    assert _looks_secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY")
    assert not _looks_secret("WiringValidateDatasetDeadLetters5AE0004B")


def test_deployed_code_holds_no_credentials() -> None:
    # everything that ships: the handlers, the library, the configuration
    shipped = [*(REPO / "functions").rglob("*.py"), *(REPO / "layers" / "sluice" / "python").rglob("*.py"),
               REPO / "sluice.toml", REPO / "functions" / "Dockerfile"]
    offenders = [str(path) for path in shipped if _looks_secret(path.read_text(encoding="utf-8"))]
    assert offenders == []
