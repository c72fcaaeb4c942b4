"""Split a dataset into training rows and holdout rows, the same way every time."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from sluice.config.model import ModelConfig
from sluice.training.errors import TrainingError
from sluice.training.features import target_values


def split_holdout(frame: pd.DataFrame, model: ModelConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(train, holdout)``: seeded by the config, stratified by class for classification.

    Training and evaluation both call this; the same frame (same rows, same order) always gives the
    same split.
    """
    settings = model.training
    stratify = target_values(frame, model) if model.task == "classification" else None
    try:
        train, holdout = train_test_split(
            frame,
            test_size=settings.holdout_fraction,
            random_state=settings.seed,
            shuffle=True,
            stratify=stratify,
        )
    except ValueError as error:
        raise TrainingError(f"cannot split {len(frame)} rows into train and holdout: {error}") from error
    return train, holdout
