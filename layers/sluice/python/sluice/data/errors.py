"""Errors raised while reading or reshaping a dataset (bad data in a readable table never raises)."""

from __future__ import annotations


class DataError(ValueError):
    """Base class of the data errors."""


class DatasetReadError(DataError):
    """The dropped bytes cannot be read as a table; the message says why in plain words."""


class ContractViolationError(DataError):
    """A table that does not satisfy its contract was given where an accepted one is required."""
