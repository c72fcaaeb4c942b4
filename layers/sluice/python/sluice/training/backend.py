"""Where a training runs: in the train_model Lambda or as a SageMaker training job (pure; no AWS).

The estimate: training loads the accepted Parquet into pandas and splits, imputes and encodes it; measured on
this code base, the whole load costs about ``LOAD_FACTOR`` (4.4) times the data's size as float64 cells
(rows x columns x 8 bytes). ``auto`` trains on SageMaker when that estimate passes what the function's memory
leaves after the runtime and the libraries (``HEADROOM_MB``) — about 3.3M rows x 20 columns at 3008 MB — or
when ``[models.<m>.training.sagemaker] auto_above_cells`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from sluice.config.model import TrainingSettings

LOAD_FACTOR = 4.4
"""Peak training memory over the data's float64 size (measured: the load alone, before any model)."""
CELL_BYTES = 8
HEADROOM_MB = 700
"""What the Python runtime, pandas, scikit-learn and ONNX take before any data."""


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
    return max(0, int((memory_mb - HEADROOM_MB) * 1024 * 1024 / (CELL_BYTES * LOAD_FACTOR)))


def estimate_mb(rows: int, columns: int) -> float:
    """The estimated peak memory of training on ``rows`` x ``columns``."""
    return rows * columns * CELL_BYTES * LOAD_FACTOR / (1024 * 1024)


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
