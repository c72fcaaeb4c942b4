"""Where a training runs: in the train_model Lambda or as a SageMaker training job (pure; no AWS).

The estimate is the whole training's measured peak (benchmarks/RESULTS.md, "Training on the sagemaker backend":
the job's own process, Parquet read, split, search, refit, ONNX export and baseline, at 125k and 500k rows x 21
columns: 34.6 bytes per cell over 301 MB; ``train_into`` alone at 500k and 2M rows: 35.3): ``BASE_MB`` of
interpreter and libraries plus ``PEAK_FACTOR`` (4.4) times the float64 matrix (rows x columns x 8 bytes). The
peak is scikit-learn's refit on the training features (about 3x their size in copies, on top of the features);
reading and splitting peak lower (about 2.4x the data, freed before the search). ``auto`` trains on SageMaker
when that estimate passes the function's memory — about 80M cells (3.8M rows x 21 columns) at 3008 MB — or when
``[models.<m>.training.sagemaker] auto_above_cells`` says so. Rows come from the accepted versions' manifests (the
registry's dataset records), columns from the contract (features + target).
"""

from __future__ import annotations

from dataclasses import dataclass

from sluice.config.model import TrainingSettings

PEAK_FACTOR = 4.4
"""Peak training memory over the data's float64 size (measured: 34.6-35.3 bytes per cell, the whole training)."""
CELL_BYTES = 8
BASE_MB = 300
"""What the interpreter, pyarrow, pandas, scikit-learn and ONNX take before any data (measured)."""


@dataclass(frozen=True)
class BackendChoice:
    """The backend chosen for one training, and why."""

    backend: str  # "lambda" | "sagemaker"
    cells: int
    limit_cells: int | None
    estimate_mb: float
    reason: str


def lambda_cell_limit(memory_mb: int) -> int:
    """The most rows x columns a training fits in ``memory_mb`` of Lambda by the load estimate."""
    return max(0, int((memory_mb - BASE_MB) * 1024 * 1024 / (CELL_BYTES * PEAK_FACTOR)))


def estimate_mb(rows: int, columns: int) -> float:
    """The estimated peak memory of training on ``rows`` x ``columns``."""
    return BASE_MB + rows * columns * CELL_BYTES * PEAK_FACTOR / (1024 * 1024)


def choose_backend(settings: TrainingSettings, *, rows: int, columns: int, memory_mb: int) -> BackendChoice:
    """``settings.backend``, with ``auto`` resolved from the data's size against the Lambda's memory."""
    cells = rows * columns
    estimate = round(estimate_mb(rows, columns), 1)
    if settings.backend != "auto":
        return BackendChoice(settings.backend, cells, None, estimate, f"training.backend = {settings.backend!r}")
    configured = settings.sagemaker.auto_above_cells
    limit = configured if configured is not None else lambda_cell_limit(memory_mb)
    where = "auto_above_cells" if configured is not None else f"{memory_mb} MB of train_model"
    if cells > limit:
        return BackendChoice("sagemaker", cells, limit, estimate,
                             f"{rows} rows x {columns} columns = {cells} cells, above {limit} ({where}; "
                             f"estimated {estimate:g} MB to train)")
    return BackendChoice("lambda", cells, limit, estimate,
                         f"{rows} rows x {columns} columns = {cells} cells, within {limit} ({where})")
