"""Ground truth for captured predictions: read a feedback file, join it by request id, score per version."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import stats

from sluice.config.model import DataContract
from sluice.naming import capture_field

FEEDBACK = "feedback"
QUALITY = "quality"
LABEL_COLUMNS = ("label", "truth", "actual")


class FeedbackError(ValueError):
    """A feedback file that cannot be read or has no usable columns."""


@dataclass(frozen=True)
class VersionQuality:
    """Live metrics of one model version on the labelled requests it answered."""

    version: str
    rows: int
    metrics: dict[str, float]


def parse_feedback_key(key: str) -> str | None:
    """The model of ``feedback/<model>/<...>``; None when the key is not a feedback drop."""
    parts = key.split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == FEEDBACK and parts[1] and parts[-1] else None


def read_feedback(body: bytes, key: str, target: str) -> pd.DataFrame:
    """``request_id``, ``instance`` (default 0) and ``label`` from CSV, JSON (lines or array) or Parquet."""
    name = key.lower()
    try:
        if name.endswith(".parquet"):
            frame = pd.read_parquet(io.BytesIO(body))
        elif name.endswith((".json", ".jsonl", ".ndjson")):
            text = body.decode().strip()
            frame = pd.DataFrame(json.loads(text) if text.startswith("[") else
                                 [json.loads(line) for line in text.splitlines() if line.strip()])
        else:
            frame = pd.read_csv(io.BytesIO(body), dtype={"request_id": str})
    except (ValueError, UnicodeDecodeError) as error:
        raise FeedbackError(f"{key}: cannot read feedback: {error}") from error
    label = next((column for column in (target, *LABEL_COLUMNS) if column in frame.columns), None)
    if "request_id" not in frame.columns or label is None:
        raise FeedbackError(f"{key}: feedback needs a request_id column and a label column ({target!r} or 'label')")
    instance = frame["instance"].fillna(0).astype("int64") if "instance" in frame.columns else 0
    return pd.DataFrame({"request_id": frame["request_id"].astype(str), "instance": instance,
                         "label": frame[label]}).dropna(subset=["label"])


def join_feedback(feedback: pd.DataFrame, captures: pa.Table) -> pd.DataFrame:
    """Labelled predictions: feedback rows matched to captured rows on (request_id, instance)."""
    wanted = [c for c in ("request_id", "instance", "model_version", "prediction", "probabilities")
              if c in captures.column_names]
    if "prediction" not in wanted or captures.num_rows == 0:
        return pd.DataFrame(columns=["request_id", "instance", "model_version", "prediction", "label"])
    captured = captures.select(wanted).to_pandas()
    captured["instance"] = captured["instance"].astype("int64")
    captured = captured.drop_duplicates(["request_id", "instance"], keep="last")
    return feedback.merge(captured, on=["request_id", "instance"], how="inner")


def labelled_rows(feedback: pd.DataFrame, captures: pa.Table, contract: DataContract) -> pd.DataFrame:
    """Captured requests joined with their labels, as rows of the contract (every contract column, then the
    target): what a drop of the same traffic would hold. A column the capture lacks is missing (null); the
    contract's timestamp column, when the capture lacks it, is the capture time. Values are kept as captured
    (text), except that whole numbers of an int column are written without a fraction."""
    names = [spec.name for spec in contract.columns]
    timestamp = contract.timestamp.name if contract.timestamp is not None else None
    if captures.num_rows == 0 or "features" not in captures.column_names:
        return pd.DataFrame(columns=[*names, *([timestamp] if timestamp else []), contract.target])
    captured = captures.select([c for c in ("request_id", "instance", "captured_at", "features")
                                if c in captures.column_names]).to_pylist()
    by_request = {(str(row["request_id"]), int(row["instance"] or 0)): row for row in captured}
    types = {spec.name: spec.type for spec in contract.columns}
    records = []
    for request_id, instance, label in zip(feedback["request_id"], feedback["instance"], feedback["label"],
                                           strict=True):
        row = by_request.get((str(request_id), int(instance)))
        if row is None:
            continue
        features = row.get("features") or {}
        record = {name: _cell(features.get(capture_field(name)), types[name]) for name in names}
        if timestamp is not None:
            at = features.get(capture_field(timestamp))
            record[timestamp] = at if at is not None else _iso_ms(row.get("captured_at"))
        record[contract.target] = label
        records.append(record)
    return pd.DataFrame.from_records(records, columns=[*names, *([timestamp] if timestamp else []),
                                                       contract.target])


def _cell(value: object, column_type: str) -> object:
    if column_type == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _iso_ms(epoch_ms: object) -> str | None:
    if not isinstance(epoch_ms, int | float):
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).isoformat()


def quality_by_version(joined: pd.DataFrame, *, task: str, positive: str | None) -> list[VersionQuality]:
    """Accuracy (and ROC AUC for binary tasks with probabilities) or RMSE and MAE, per model version."""
    results = []
    for version, rows in joined.groupby(joined["model_version"].astype(str), sort=True):
        results.append(VersionQuality(version=str(version), rows=len(rows),
                                      metrics=quality_metrics(rows, task=task, positive=positive)))
    return results


def quality_metrics(rows: pd.DataFrame, *, task: str, positive: str | None) -> dict[str, float]:
    if task == "regression":
        error = rows["prediction"].astype(float).to_numpy() - rows["label"].astype(float).to_numpy()
        return {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}
    truth = rows["label"].astype(str).to_numpy()
    metrics = {"accuracy": float(np.mean(truth == rows["prediction"].astype(str).to_numpy()))}
    if positive is not None and "probabilities" in rows.columns:
        scores = np.asarray([json.loads(p).get(positive, np.nan) if isinstance(p, str) else np.nan
                             for p in rows["probabilities"]], dtype=np.float64)
        known = ~np.isnan(scores)
        auc = roc_auc(truth[known] == positive, scores[known])
        if auc is not None:
            metrics["roc_auc"] = auc
    return metrics


def roc_auc(positive: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC by the rank-sum (Mann-Whitney) identity; None when only one class is present."""
    n_pos = int(positive.sum())
    n_neg = int(positive.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = stats.rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def positive_class(configured: str | None, classes: list[str]) -> str | None:
    """The positive class of a binary task, as the evaluation defines it (the contract's ``positive``, else the
    second of the sorted labels)."""
    if len(classes) != 2:
        return configured
    return configured if configured is not None else sorted(classes)[1]
