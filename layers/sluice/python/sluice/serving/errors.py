"""Errors raised while loading a model or serving its predictions."""

from __future__ import annotations


class ServingError(Exception):
    """Base class of every serving error."""


class InvalidInstances(ServingError, ValueError):  # noqa: N818 - the name the handlers and API use
    """The request's instances do not match the model's signature (a client error)."""


class SignatureError(ServingError, ValueError):
    """A model signature is malformed."""


class ModelLoadError(ServingError):
    """An ONNX artifact cannot be loaded, or it does not match its signature."""


class IntegrityError(ServingError):
    """An artifact's bytes do not match their recorded sha256."""
