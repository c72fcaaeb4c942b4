"""A split scoring job: what every part's worker and the merge need, carried in the state machine's input."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sluice.storage.keys import SCORED, SCORING_PARTS

PREDICTIONS_FILE = "predictions.parquet"
REPORT_FILE = "report.json"
STATE_MACHINE_ENV = "SLUICE_SCORING_STATE_MACHINE"
"""The scoring state machine's ARN, set on score_batch (by CDK; by the local runtime)."""


@dataclass(frozen=True)
class ScoringJob:
    """One file scored in parts by one model version, written under ``prefix`` (``scored/.../v<N>/``)."""

    model: str
    version: int
    artifact_sha256: str
    source: str
    etag: str
    prefix: str
    parts: int
    header_end: int = 0
    max_concurrency: int = 1

    @property
    def execution_name(self) -> str:
        """One execution per (object, version): a duplicate start is refused by Step Functions by this name."""
        folder = self.prefix.rstrip("/").split("/")
        return f"{folder[-3]}-{folder[-2].rsplit('-', 1)[-1]}-{folder[-1]}"[-80:]

    def part_key(self, index: int) -> str:
        """The part's scored rows, staged under ``scoring-parts/`` (the output's path after ``scored/``) until the
        merge; ``part_done_key`` (its counts) is written after it."""
        return f"{self._parts_prefix}part-{index:05d}.parquet"

    def part_done_key(self, index: int) -> str:
        return f"{self._parts_prefix}part-{index:05d}.json"

    @property
    def _parts_prefix(self) -> str:
        return f"{SCORING_PARTS}/{self.prefix.removeprefix(f'{SCORED}/')}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Any) -> ScoringJob:
        if not isinstance(raw, dict):
            raise ValueError(f"not a scoring job: {raw!r}")
        try:
            return cls(model=str(raw["model"]), version=int(raw["version"]),
                       artifact_sha256=str(raw["artifact_sha256"]), source=str(raw["source"]),
                       etag=str(raw["etag"]), prefix=str(raw["prefix"]), parts=int(raw["parts"]),
                       header_end=int(raw.get("header_end", 0)), max_concurrency=int(raw.get("max_concurrency", 1)))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a scoring job: {error}") from error
