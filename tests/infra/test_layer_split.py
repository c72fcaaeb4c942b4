"""Runtime apart from tooling: Lambda gets the library without the local runtime, the CLI and the demo, and no
function can reach what was left out (a deployed function never fails with ImportError)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra.assets import TOOLING_PACKAGES, BuildInputs, stage_sluice_layer
from tests.infra.conftest import REPO
from tests.infra.import_graph import module_file, reachable

LIBRARY = REPO / "layers" / "sluice" / "python"
HANDLERS = sorted((REPO / "functions").glob("*/app.py"))
TOOLING = tuple(f"sluice.{package}" for package in TOOLING_PACKAGES)


def test_the_import_graph_reader_sees_imports_inside_functions_and_through_lazy_packages(tmp_path: Path) -> None:
    # GIVEN a handler importing one lazy export, and one importing a tooling module inside a function
    lazy, nested = tmp_path / "lazy.py", tmp_path / "nested.py"
    lazy.write_text("from sluice.training import split_holdout\n")
    nested.write_text("def later():\n    from sluice.demo.story import run_demo\n")
    # WHEN their graphs are read
    # THEN the export's defining module is reached, not its siblings (the package is lazy)
    assert {"sluice.training", "sluice.training.split"} <= reachable(LIBRARY, lazy)
    assert "sluice.training.export" not in reachable(LIBRARY, lazy)
    # AND the call-site import is found
    assert {"sluice.demo", "sluice.demo.story"} <= reachable(LIBRARY, nested)


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda path: path.parent.name)
def test_no_function_reaches_a_tooling_package_and_everything_it_reaches_is_shipped(handler: Path,
                                                                                    tmp_path: Path) -> None:
    # GIVEN the staged sluice layer
    layer = stage_sluice_layer(BuildInputs(staging_dir=tmp_path)) / "python"
    # WHEN the handler's whole import graph is read (module level and call sites)
    modules = reachable(LIBRARY, handler)
    # THEN it never reaches the tooling
    assert not [module for module in modules if module.startswith(TOOLING)]
    # AND every module it reaches is in the layer
    missing = [module for module in modules if module_file(LIBRARY, module) and not module_file(layer, module)]
    assert missing == []


def test_the_layer_and_the_image_leave_out_the_same_tooling_packages(tmp_path: Path) -> None:
    # GIVEN the staged layer and the image's Dockerfile
    shipped = stage_sluice_layer(BuildInputs(staging_dir=tmp_path)) / "python" / "sluice"
    dockerfile = (REPO / "functions" / "Dockerfile").read_text()
    # THEN neither ships a tooling package, and the library's other packages are all in the layer
    assert {"cli", "demo", "local"} <= set(TOOLING_PACKAGES)
    for package in TOOLING_PACKAGES:
        assert not (shipped / package).exists()
    removed = set(re.findall(r"\$\{LAMBDA_TASK_ROOT\}/sluice/(\w+)", dockerfile))
    assert removed == set(TOOLING_PACKAGES)
    packages = {path.parent.name for path in (LIBRARY / "sluice").glob("*/__init__.py")}
    assert {path.parent.name for path in shipped.glob("*/__init__.py")} == packages - set(TOOLING_PACKAGES)


def test_cdk_synth_does_not_import_scipy_or_the_ml_stack(tmp_path: Path) -> None:
    # GIVEN a fresh interpreter
    code = ("import json, sys; from pathlib import Path; from tests.infra.conftest import synthesize; "
            f"synthesize(Path({str(tmp_path)!r})); "
            "print(json.dumps(sorted(m for m in ('scipy', 'pandas', 'pyarrow', 'sklearn', 'onnxruntime', 'optuna', "
            "'skl2onnx') if m in sys.modules)))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(LIBRARY), str(REPO)])}
    # WHEN it synthesizes the stack as `cdk synth` does
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            check=True)
    # THEN none of the ML libraries were loaded
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
