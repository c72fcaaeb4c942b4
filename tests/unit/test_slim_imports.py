"""Zip-packaged functions (predict, deploy_model, rollback_model) ship without pandas, pyarrow, scipy or
scikit-learn: their import paths must not need them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sluice.wiring import FUNCTIONS, Packaging

HEAVY = ("pandas", "pyarrow", "scipy", "sklearn")
LIBRARY_PATHS = {
    "predict": ["sluice.predict", "sluice.artifacts", "sluice.endpoint", "sluice.observability"],
    "deploy_model": ["sluice.steps.deploy", "sluice.handlers", "sluice.idempotency"],
    "rollback_model": ["sluice.steps.rollback", "sluice.handlers", "sluice.idempotency"],
}


def test_every_zip_function_is_covered() -> None:
    assert {name for name, spec in FUNCTIONS.items() if spec.packaging is Packaging.ZIP} == set(LIBRARY_PATHS)


@pytest.mark.parametrize("function", sorted(LIBRARY_PATHS))
def test_zip_function_imports_stay_slim(function: str) -> None:
    # GIVEN a fresh interpreter WHEN the function's library modules are imported
    imports = "; ".join(f"import {module}" for module in LIBRARY_PATHS[function])
    probe = f"import sys, json; {imports}; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    # THEN none of the heavy packages were loaded
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
