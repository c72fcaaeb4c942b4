"""The SageMaker processing job's entrypoint (``python -m sluice.jobs.validate --model … --key …``): the same
streaming validation as validate_dataset's (``data.intake.check_file``), from the job's input folder into its output
folder: ``verdict.json`` (the report validate_dataset writes) and, for an accepted drop, the normalized
``data.parquet``. validate_dataset's completion turns them into the accepted version or the quarantine.

``SLUICE_SAGEMAKER_ROOT`` moves ``/opt/ml`` (the local runtime plays the job in a temporary folder). Exit 0: the
verdict is written (accepted or rejected alike); exit 1: the job could not judge the file, the reason is in
``output/message`` (DescribeProcessingJob's ExitMessage).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from sluice.jobs.train import MAX_FAILURE_CHARS, ROOT_ENV
from sluice.jobs.validation import DATA_FILE, INPUT_DIR, OUTPUT_DIR, VERDICT_FILE, JobDrop, local_file

OPT_ML = "/opt/ml"


def main(arguments: list[str], root: Path | None = None) -> int:
    base = root or Path(os.environ.get(ROOT_ENV, OPT_ML))
    try:
        verdict = run(base, JobDrop.from_arguments(arguments))
    except Exception as error:  # any failure is the job's: its reason goes where SageMaker reads it
        traceback.print_exc()
        write_message(base, f"{type(error).__name__}: {error}")
        return 1
    print(json.dumps({"accepted": verdict["accepted"], "rows": verdict["rows"],
                      "data_version": verdict["data_version"]}))
    return 0


def run(base: Path, drop: JobDrop) -> dict[str, Any]:
    """Validate the dropped file under ``<base>/processing/input``; returns the verdict written beside the data."""
    from sluice.config import load_config
    from sluice.data import check_file

    contract = load_config().model(drop.model).contract
    source = _mapped(base, INPUT_DIR) / local_file(drop.key)
    if not source.is_file():
        raise FileNotFoundError(f"the drop {drop.key} is not in the job's input")
    output = _mapped(base, OUTPUT_DIR)
    output.mkdir(parents=True, exist_ok=True)
    data = output / DATA_FILE
    with source.open("rb") as file, data.open("wb") as sink:
        verdict = check_file(file, drop.key, contract, sink=sink)
    if not verdict.accepted or verdict.data_version is None:
        data.unlink()  # nothing normalized is kept for a rejected file
    document = verdict.to_dict()
    (output / VERDICT_FILE).write_text(json.dumps(document))
    return document


def write_message(base: Path, reason: str) -> None:
    output = base / "output"
    output.mkdir(parents=True, exist_ok=True)
    (output / "message").write_text(" ".join(reason.split())[:MAX_FAILURE_CHARS])


def _mapped(base: Path, path: str) -> Path:
    return base / Path(path).relative_to(OPT_ML)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
