"""Split a dataset into training rows and holdout rows, the same way every time."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from sluice.config.model import ModelConfig
from sluice.training.errors import TrainingError
from sluice.training.features import target_values


def split_holdout(frame: pd.DataFrame, model: ModelConfig, *, strict: bool = True
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(train, holdout)``: seeded by the config, stratified by class for classification.

    ``strict=False`` (one part of a larger window): rows whose classes are too rare to stratify are split
    unstratified, with the same seed, instead of refused.

    With ``training.time_column`` the holdout is the latest rows instead (time-ordered, no shuffle), so the
    model is judged on data newer than any it learned from. Training and evaluation both call this; the
    same frame (same rows, same order) always gives the same split.
    """
    settings = model.training
    if settings.time_column is not None:
        return _split_by_time(frame, settings.time_column, settings.holdout_fraction)
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
        if strict or stratify is None:
            raise TrainingError(f"cannot split {len(frame)} rows into train and holdout: {error}") from error
        try:
            train, holdout = train_test_split(frame, test_size=settings.holdout_fraction,
                                              random_state=settings.seed, shuffle=True)
        except ValueError as unstratified:
            raise TrainingError(f"cannot split {len(frame)} rows into train and holdout: {unstratified}"
                                ) from unstratified
    return train, holdout


def _split_by_time(frame: pd.DataFrame, column: str, fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    if column not in frame.columns:
        raise TrainingError(f"the data has no time column {column!r}")
    ordered = frame.sort_values(column, kind="stable")
    held = max(1, round(len(ordered) * fraction))
    if len(ordered) - held < 2:
        raise TrainingError(f"cannot split {len(frame)} rows into train and holdout by {column!r}")
    return ordered.iloc[:-held], ordered.iloc[-held:]
