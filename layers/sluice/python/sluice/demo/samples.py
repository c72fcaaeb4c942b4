"""Sample data shipped with sluice (made from scikit-learn's bundled datasets)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
BREAST_CANCER = DATA_DIR / "breast_cancer.csv"
DIABETES = DATA_DIR / "diabetes.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def instances(path: Path, target: str, count: int, *, start: int = 0) -> tuple[list[dict[str, Any]], list[str]]:
    """``count`` rows as request instances (numbers parsed) and their true targets."""
    rows = read_rows(path)[start : start + count]
    features = [{key: _number(value) for key, value in row.items() if key != target} for row in rows]
    return features, [row[target] for row in rows]


def deliveries(path: Path, first_rows: int) -> tuple[bytes, bytes]:
    """The file delivered in two parts, as a source that ships monthly would: the first ``first_rows`` rows,
    then the rest (new rows only), each a CSV with the header."""
    rows = read_rows(path)
    return _csv(rows[:first_rows]), _csv(rows[first_rows:])


def broken_copy(path: Path, rows: int = 40) -> bytes:
    """A damaged extract: text in a numeric column, an impossible value, an unknown label."""
    source = read_rows(path)[:rows]
    source[3]["mean_radius"] = "n/a"
    source[7]["mean_area"] = "-250"
    source[11]["diagnosis"] = "unsure"
    return _csv(source)


def _csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _number(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value
