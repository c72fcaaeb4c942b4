"""Each function imports only what it uses: lazy package exports, and no heavy library a handler does not need
(checked in a fresh interpreter per handler: ``sys.modules`` after importing its app module)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sluice.lazy import LazyClient, declared_exports

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "layers" / "sluice" / "python"
LAZY_PACKAGES = sorted(path.parent for path in (LIBRARY / "sluice").glob("*/__init__.py")
                       if declared_exports(path.read_text()))
ML = ("sklearn", "optuna", "skl2onnx", "onnx")
TOOLING = ("sluice.local", "sluice.cli", "sluice.demo", "moto", "typer")
# what each handler must not load at import (its init): the ML stack where it does not train, pandas and pyarrow
# where it reads no tables, onnxruntime where it serves nothing
NOT_IMPORTED: dict[str, tuple[str, ...]] = {
    "predict": (*ML, "pandas", "pyarrow", "scipy", "boto3", "aws_xray_sdk"),  # botocore makes its clients
    "deploy_model": (*ML, "pandas", "pyarrow", "scipy", "numpy", "onnxruntime"),
    "rollback_model": (*ML, "pandas", "pyarrow", "scipy", "numpy", "onnxruntime"),
    "validate_dataset": (*ML, "pandas", "scipy", "onnxruntime"),
    "detect_drift": (*ML, "pandas", "onnxruntime"),
    "record_feedback": ML,
    "score_batch": (*ML, "pandas", "scipy"),  # streams Arrow batches through the served ONNX model
    "score_part": (*ML, "pandas", "scipy"),  # the same, for one part of a file; and the merge
    "evaluate_model": ("optuna", "skl2onnx", "onnx"),
    "train_model": (),
}
CHECKED = sorted({*(name for names in NOT_IMPORTED.values() for name in names), *TOOLING})
FUNCTION_ENV = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "SLUICE_PREFIX": "sluice-dev", "SLUICE_DATA_BUCKET": "data", "SLUICE_ARTIFACT_BUCKET": "artifacts",
                "SLUICE_REGISTRY_TABLE": "registry", "SLUICE_IDEMPOTENCY_TABLE": "idempotency",
                "SLUICE_EVENT_BUS": "bus", "SLUICE_MODEL": "breast-cancer", "POWERTOOLS_SERVICE_NAME": "test",
                "SLUICE_CONFIG": str(REPO / "sluice.toml")}
PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)))
"""


def _fresh(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    env = {**os.environ, **FUNCTION_ENV, **(env or {}), "PYTHONPATH": str(LIBRARY)}
    env.pop("AWS_LAMBDA_RUNTIME_API", None)
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, text=True,
                            check=True)
    return result.stdout.strip().splitlines()[-1]


def test_every_handler_is_checked() -> None:
    assert set(NOT_IMPORTED) == {path.parent.name for path in (REPO / "functions").glob("*/app.py")}


@pytest.mark.parametrize("function", sorted(NOT_IMPORTED))
def test_a_handlers_import_loads_no_library_it_does_not_use(function: str) -> None:
    # GIVEN a fresh interpreter with the function's environment
    # WHEN it imports the function's app module (its whole init)
    loaded = json.loads(_fresh(PROBE, str(REPO / "functions" / function / "app.py"), json.dumps(CHECKED)))
    # THEN none of the libraries it does not need, and none of the tooling, was imported
    assert [name for name in loaded if name in NOT_IMPORTED[function] or name in TOOLING] == []


# what the predict function's init must not load: modules of features a prediction does not use until their first
# request (the :explain verb, the shadow lookup in the registry, the project configuration file), and libraries
# that only add import time (boto3's resource layer, the X-Ray SDK)
PREDICT_INIT_EXCLUDES = ("sluice.explain", "sluice.explain.model", "sluice.explain.build", "sluice.registry",
                         "sluice.registry.dynamodb", "sluice.config", "sluice.config.reader", "boto3", "s3transfer",
                         "aws_xray_sdk")
FEATURE_PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
loaded = sorted(name for name in json.loads(sys.argv[2]) if name in sys.modules)
from sluice.predict.explaining import explain_document  # what a first :explain request runs
from sluice.predict.http import HttpError
try:
    explain_document(None, "not a list")
except HttpError:
    pass
print(json.dumps({"init": loaded, "after_explain": "sluice.explain.model" in sys.modules}))
"""


def test_the_predict_init_loads_no_module_of_a_feature_the_request_does_not_use() -> None:
    # GIVEN a fresh interpreter with the predict function's environment, capture configured
    env = {"SLUICE_CAPTURE_STREAM": "sluice-dev-capture-breast-cancer", "SLUICE_CAPTURE_RATE": "0.1"}
    # WHEN it imports the function's app module (its whole init), then answers a first :explain call
    outcome = json.loads(_fresh(FEATURE_PROBE, str(REPO / "functions" / "predict" / "app.py"),
                                json.dumps(PREDICT_INIT_EXCLUDES), env=env))
    # THEN the init loaded none of them
    assert outcome["init"] == []
    # AND the probe sees the explainer's module once :explain is used (an empty list above is a real absence)
    assert outcome["after_explain"] is True


def test_the_probe_sees_what_a_handler_imports() -> None:
    # GIVEN the training handler, which trains (scikit-learn, Optuna) at import of its step
    loaded = json.loads(_fresh(PROBE, str(REPO / "functions" / "train_model" / "app.py"), json.dumps(CHECKED)))
    # THEN the probe reports them: an empty answer above is a real absence
    assert {"sklearn", "optuna", "pandas"} <= set(loaded)


@pytest.mark.parametrize("package", LAZY_PACKAGES, ids=lambda path: path.name)
def test_a_lazy_package_exports_every_declared_name_from_its_module(package: Path) -> None:
    # GIVEN a package whose exports are declared under TYPE_CHECKING
    name = f"sluice.{package.name}"
    declared = declared_exports((package / "__init__.py").read_text())
    module = importlib.import_module(name)
    # THEN each export is the object its own module defines, listed in __all__ and dir()
    for export, source in declared.items():
        assert getattr(module, export) is getattr(importlib.import_module(source), export)
    assert set(declared) <= set(module.__all__) and set(declared) <= set(dir(module))
    # AND no export is named like a submodule (the import system would bind the module under that name)
    assert not set(declared) & {path.stem for path in package.iterdir()}
    with pytest.raises(AttributeError, match="no attribute 'not_exported'"):
        _ = module.not_exported


def test_importing_a_package_imports_none_of_its_exports_modules() -> None:
    # GIVEN a fresh interpreter WHEN it imports sluice.training and uses one export
    code = ("import json, sys; from sluice.training import split_holdout; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('sluice.training.'))))")
    loaded = json.loads(_fresh(code))
    # THEN only that export's module (and what it imports) was loaded, not the ONNX export or the tuner
    assert "sluice.training.split" in loaded
    assert "sluice.training.export" not in loaded and "sluice.training.tuning" not in loaded


def test_a_lazy_client_is_made_on_first_use_only_and_once() -> None:
    # GIVEN a client factory that counts its calls
    made: list[int] = []

    class Client:
        def get_object(self, **_: str) -> str:
            return "body"

    def factory() -> Client:
        made.append(1)
        return Client()

    client = LazyClient(factory)
    # THEN nothing is made until the first call, and one client serves every call
    assert made == [] and not client.created
    assert client.get_object(Bucket="b") == "body" and client.get_object(Bucket="b") == "body"
    assert made == [1] and client.created
