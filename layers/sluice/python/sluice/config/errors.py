"""Errors raised while reading the project configuration."""

from __future__ import annotations


class ConfigError(ValueError):
    """The configuration file is missing, malformed or inconsistent."""
