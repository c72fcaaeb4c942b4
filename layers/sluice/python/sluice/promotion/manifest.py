"""What a promotion copies and how it is checked (pure: no AWS).

A version's folder ``models/<model>/<version>/`` holds the served file, the pickled pipeline, the signature (the
data contract it was trained under), training.json, baseline.json, evaluation.json and the model card; a version
refit on all rows ships the files under ``refit/``. Every file is copied; the served file and the pipeline are
checked against the sha256 the source registry records (the shipped folder) and the ones training.json records
(the gated folder), so a file changed after training is refused before anything is registered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sluice.artifacts import (
    CARD_HTML_FILE,
    CARD_JSON_FILE,
    EVALUATION_FILE,
    MODEL_FILE,
    PIPELINE_FILE,
    SIGNATURE_FILE,
    SKLEARN_FORMAT,
    TRAINING_FILE,
    sha256_hex,
)
from sluice.registry import ModelVersion, Status

PROMOTABLE = frozenset({Status.APPROVED, Status.CANARY, Status.LIVE, Status.PREVIOUS})
"""A version the source stage's gate approved and that was not withdrawn since."""
BASELINE_FILE = "baseline.json"  # sluice.monitoring.baseline.BASELINE_FILE (that module loads NumPy)
REQUIRED_FILES = (SIGNATURE_FILE, TRAINING_FILE, BASELINE_FILE, EVALUATION_FILE, CARD_JSON_FILE, CARD_HTML_FILE)
STAGE_REPORTS = ("ab-report.json", "shadow-report.json")
"""How a release went in the source stage: not part of the artifact, not copied."""
REWRITTEN_FILES = (EVALUATION_FILE, CARD_JSON_FILE, CARD_HTML_FILE)
"""Copied with the promotion added (the target's record says it was promoted); the source's sha256 is recorded."""


class PromotionRefusedError(ValueError):
    """The version cannot be promoted as asked (nothing was registered in the target stage)."""


def claim_key(source_stage: str, version: int) -> str:
    """The target registry's claim of a promotion: one target version per source stage and version."""
    return f"promotion:{source_stage}:v{version}"


def check_promotable(version: ModelVersion, source_stage: str) -> None:
    if version.status not in PROMOTABLE:
        allowed = ", ".join(sorted(status.value for status in PROMOTABLE))
        raise PromotionRefusedError(f"{version.label} in {source_stage} is {version.status.value}; only versions "
                                    f"its gate approved ({allowed}) can be promoted")


def copied_names(keys: list[str], prefix: str) -> list[str]:
    """The files of the version folder ``prefix`` to copy, as names relative to it."""
    names = [key[len(prefix):] for key in keys if key.startswith(prefix)]
    return sorted(name for name in names if name and name not in STAGE_REPORTS)


def expected_sha256(version: ModelVersion, training: Mapping[str, Any], base_prefix: str) -> dict[str, str]:
    """The sha256 each verifiable file must have: the shipped folder's served file and pipeline by the registry,
    the gated folder's by training.json (the same folder unless the version was refit)."""
    shipped = _folder(version.artifact_prefix or base_prefix, base_prefix)
    expected: dict[str, str] = {}
    claims = ((shipped, version.serving, version.artifact_sha256, version.pipeline_sha256, "the source registry"),
              ("", str(training.get("serving", "")), str(training.get("artifact_sha256", "")),
               str(training.get("pipeline_sha256", "")), TRAINING_FILE))
    for folder, serving, artifact, pipeline, where in claims:
        served = folder + (PIPELINE_FILE if serving == SKLEARN_FORMAT else MODEL_FILE)
        for name, digest in ((served, artifact), (folder + PIPELINE_FILE, pipeline)):
            if not digest:
                raise PromotionRefusedError(f"{where} records no sha256 for {name}: cannot verify the artifact")
            if expected.setdefault(name, digest) != digest:
                raise PromotionRefusedError(f"{name}: the source registry records sha256 {expected[name]}, "
                                            f"training.json {digest}; refusing an artifact whose records disagree")
    return expected


def verify_files(files: Mapping[str, bytes], expected: Mapping[str, str]) -> dict[str, str]:
    """Every file's sha256, after checking the expected ones; PromotionRefusedError names a missing or changed file."""
    missing = [name for name in (*REQUIRED_FILES, *expected) if name not in files]
    if missing:
        raise PromotionRefusedError(f"the source version lacks {', '.join(sorted(set(missing)))}")
    digests = {name: sha256_hex(body) for name, body in files.items()}
    for name, digest in expected.items():
        if digests[name] != digest:
            raise PromotionRefusedError(f"{name} has sha256 {digests[name]}, its record says {digest}: the source "
                                        "artifact was changed after training; nothing was promoted")
    return digests


def shipped_prefix(version: ModelVersion, base_prefix: str, target_prefix: str) -> str:
    """The target's artifact prefix: the same folder (top level, or ``refit/``) under the target version."""
    return target_prefix + _folder(version.artifact_prefix or base_prefix, base_prefix)


def promoted_evaluation(evaluation: dict[str, Any], promotion: dict[str, Any], version: int) -> dict[str, Any]:
    """The source's evaluation as the target's record: the gate's verdict stands, and says it was a promotion."""
    return {**evaluation, "version": version, "promotion": promotion}


def promoted_card(card: dict[str, Any], promotion: dict[str, Any], version: int) -> dict[str, Any]:
    """The source's model card as the target version's, with its lineage (``promotion``)."""
    return {**card, "version": version, "promotion": promotion}


def read_json(files: Mapping[str, bytes], name: str) -> dict[str, Any]:
    try:
        document = json.loads(files[name])
    except ValueError as error:
        raise PromotionRefusedError(f"{name} of the source version is not JSON ({error})") from None
    if not isinstance(document, dict):
        raise PromotionRefusedError(f"{name} of the source version is not a JSON object")
    return document


def _folder(prefix: str, base_prefix: str) -> str:
    if not prefix.startswith(base_prefix):
        raise PromotionRefusedError(f"the artifact prefix {prefix!r} is outside the version's folder {base_prefix!r}")
    return prefix[len(base_prefix):]
