"""Load nothing before it is used: lazy re-exports for package ``__init__`` files, and AWS clients created on
first use.

A package declares its public names once, as imports inside ``if TYPE_CHECKING:`` (what type checkers and
readers see), and hands its own file to :func:`lazy_exports`. At run time nothing is imported up front: the first
access to a name imports the one submodule that defines it (PEP 562 module ``__getattr__``). Importing
``sluice.training.split`` therefore no longer loads Optuna and skl2onnx through ``sluice.training``'s other
modules. A public name must differ from every submodule's name (the import system would bind the module there).
"""

from __future__ import annotations

import ast
import functools
import importlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

Exports = tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]


def declared_exports(source: str) -> dict[str, str]:
    """Public name → defining module, read from the ``from <module> import <name>`` statements of the source's
    top-level ``if TYPE_CHECKING:`` blocks."""
    exports: dict[str, str] = {}
    for block in ast.parse(source).body:
        if not (isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"):
            continue
        for statement in block.body:
            if not isinstance(statement, ast.ImportFrom) or statement.level or statement.module is None:
                raise ValueError("a lazy package declares its exports as absolute 'from <module> import <name>'")
            for alias in statement.names:
                exports[alias.asname or alias.name] = statement.module
    return exports


def lazy_exports(package: str, init_file: str) -> Exports:
    """``(__getattr__, __dir__, __all__)`` for the package ``package`` whose ``__init__`` is ``init_file``."""
    exports = declared_exports(Path(init_file).read_text(encoding="utf-8"))

    def attribute(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # later lookups find it without this hook
        return value

    def listing() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return attribute, listing, sorted(exports)


class LazyClient:
    """A boto3 client made by ``factory`` on its first use (creating one loads its service model: tens of ms of
    cold start for a client the request path may never call)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def created(self) -> bool:
        return self._client is not None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            with self._lock:  # the post-response thread and the handler may both reach for it first
                if self._client is None:
                    self._client = self._factory()
        return getattr(self._client, name)


_SESSION_LOCK = threading.Lock()
_SESSION_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL",
                "AWS_DEFAULT_REGION", "AWS_REGION")
"""What a botocore session resolves once and keeps (credentials, endpoint, region): one session per combination,
so a process hosting several functions with their own credentials (the local IAM-enforcing mode) never signs
one function's calls with another's key. On Lambda the combination never changes: one session."""


@functools.cache
def _botocore_session(_environment: tuple[str | None, ...]) -> Any:
    import botocore.session

    from sluice.service_models import register_direct_loader

    session = botocore.session.get_session()
    register_direct_loader(session)  # no scan of every service's folder to make one client
    return session


def aws_client(service: str) -> LazyClient:
    """A lazy client of ``service`` made by botocore alone: importing boto3 (s3transfer, the resource layer) costs
    cold start and adds nothing a client call needs. Region, credentials and endpoint come from the environment."""

    def make() -> Any:
        environment = tuple(os.environ.get(name) for name in _SESSION_ENV)
        with _SESSION_LOCK:  # a botocore session is not safe to create clients from two threads at once
            return _botocore_session(environment).create_client(service)

    return LazyClient(make)
