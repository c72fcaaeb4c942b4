"""Shared fixtures of the benchmarks: the demo's breast-cancer model, trained per family and exported."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sluice.config import ModelConfig, TuningSettings, load_config
from sluice.training import ExportedModel, TrainingResult, export_onnx, split_holdout, train_best

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "layers" / "sluice" / "python" / "sluice" / "demo" / "data" / "breast_cancer.csv"


@dataclass(frozen=True)
class Trained:
    config: ModelConfig
    result: TrainingResult
    exported: ExportedModel
    holdout: pd.DataFrame


def breast_cancer(family: str) -> Trained:
    """The breast-cancer pipeline of ``family`` (untuned defaults), exported and verified on the holdout."""
    base = load_config(ROOT / "sluice.toml").model("breast-cancer")
    training = dataclasses.replace(base.training, families=(family,), tuning=TuningSettings())
    config = dataclasses.replace(base, training=training)
    train, holdout = split_holdout(pd.read_csv(DATA), config)
    result = train_best(train, config)
    return Trained(config, result, export_onnx(result, config, holdout), holdout)
