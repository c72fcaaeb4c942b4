"""Zip-packaged functions (predict, deploy_model, rollback_model) ship without pandas, pyarrow, scipy or
scikit-learn: their import paths must not need them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sluice.wiring import FUNCTIONS, Packaging
from tests.conftest import HANG_GUARD_S

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
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=HANG_GUARD_S,
                            check=True)
    # THEN none of the heavy packages were loaded
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


VALIDATION_PROBE = r'''
import io, json, sys
import pyarrow as pa, pyarrow.csv as pa_csv, pyarrow.parquet as pq
from sluice.config import ColumnSpec, DataContract, TimestampSpec
from sluice.data import check_file

contract = DataContract(
    columns=(ColumnSpec("x", "float", min=0, max=10), ColumnSpec("n", "int", min=0, max=5),
             ColumnSpec("flag", "bool", nullable=True), ColumnSpec("id", "string", unique=True),
             ColumnSpec("kind", "string", allowed=("a", "b"))),
    target="y", target_type="string", target_values=("yes", "no"), min_rows=1, min_class_fraction=0.1,
    timestamp=TimestampSpec("at", min="2020-01-01"))
good = "x,n,flag,id,kind,at,y\n" + "".join(
    f"{i % 10}.5,{i % 5},{'true' if i % 2 else 'no'},r{i},{'ab'[i % 2]},2024-01-0{1 + i % 9}T00:00:00Z,"
    f"{('yes', 'no')[i % 2]}\n" for i in range(40))
bad = good + "".join(f"{x},{n},{flag},{id_},{kind},{at},{y}\n" for x, n, flag, id_, kind, at, y in [
    ("abc", "0x1F", "maybe", "r1", "c", "yesterday", "perhaps"), ("nan", "1.0", "NA", "r2", "a", "1999-01-01", "no"),
    ("inf", "+3", "1", "r3", "b", "2024-02-30", "yes"), ("-5", "99", "", "r4", "a ", "", "yes"),
    ("", "7.5", "T", "", "b", "2024-01-01 00:00", "no")])
tables = {"good": pa_csv.read_csv(io.BytesIO(good.encode()))}
verdicts = {}
for name, text in (("good.csv", good), ("bad.csv", bad), ("bad.tsv", bad.replace(",", "\t"))):
    verdicts[name] = check_file(io.BytesIO(text.encode()), name, contract, sink=io.BytesIO()).accepted
row = {"n": 1, "flag": True, "kind": "a", "at": "2024-01-01"}
mixed = "".join(json.dumps({**row, "x": x, "id": f"j{i}", "y": y}) + "\n"
                for i, (x, y) in enumerate([(1, "yes"), ("abc", "no"), (2.5, "yes"), (None, "no")]))
verdicts["mixed.jsonl"] = check_file(io.BytesIO(mixed.encode()), "mixed.jsonl", contract, sink=io.BytesIO()).accepted
sink = io.BytesIO()
pq.write_table(tables["good"], sink)
sink.seek(0)
verdicts["good.parquet"] = check_file(sink, "good.parquet", contract, sink=io.BytesIO()).accepted
heavy = sorted(m for m in ("pandas", "scipy", "sklearn") if m in sys.modules)
print(json.dumps({"verdicts": verdicts, "heavy": heavy}))
'''


def test_validating_files_never_loads_pandas() -> None:
    # GIVEN a fresh interpreter WHEN clean and broken CSV, TSV, JSON Lines (mixed types) and Parquet files are
    # validated and normalized
    # (every conversion and rule path: bad numbers, NaN, ranges, hex, bools, timestamps, duplicates, nulls)
    result = subprocess.run([sys.executable, "-c", VALIDATION_PROBE], capture_output=True, text=True,
                            timeout=HANG_GUARD_S, check=True)
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    # THEN the verdicts are right and pandas (36 MB of a Lambda's memory) was never imported
    assert outcome["verdicts"] == {"good.csv": True, "bad.csv": False, "bad.tsv": False, "mixed.jsonl": False,
                                   "good.parquet": True}
    assert outcome["heavy"] == []
