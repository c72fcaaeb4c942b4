"""The schema of a captured prediction record (sluice.predict.capture), declared once.

On AWS it is the Glue table Firehose converts the JSON records to Parquet with; the local stack registers the
same table and converts its staged records with the same column types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.naming import capture_field

if TYPE_CHECKING:
    from sluice.config import ModelConfig

GLUE_TYPES = {"float": "double", "int": "double", "string": "string", "bool": "string"}
PARTITION_KEYS: tuple[tuple[str, str], ...] = (("date", "string"),)


def capture_columns(model: ModelConfig) -> tuple[tuple[str, str], ...]:
    """(column, Glue type) of a capture record of ``model``, in record order."""
    features = ",".join(f"{capture_field(c.name)}:{GLUE_TYPES[c.type]}" for c in model.contract.columns)
    prediction = "string" if model.task == "classification" else "double"
    return (("request_id", "string"), ("instance", "int"), ("model_version", "string"), ("captured_at", "bigint"),
            ("prediction", prediction), ("probabilities", "string"), ("features", f"struct<{features}>"),
            ("violations", "string"))


def capture_table_name(model: str) -> str:
    """The Glue table of a model's captures (Glue names: no "-")."""
    return model.replace("-", "_")


def capture_database_name(prefix: str) -> str:
    return f"{prefix}_captures".replace("-", "_")
