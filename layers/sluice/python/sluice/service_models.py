"""botocore's data loader without its scan of every service's folder when one client is made.

Before it loads a service model, botocore's ``Loader.load_service_model`` checks that the service is known by
listing every service of every search path (about 460 folders and 900 ``stat`` calls in botocore 1.44, once for the
service model and once for its endpoint rules: ~35 ms of a function's cold start, more than a fifth of making its
first client). :class:`DirectLoader` answers that check from the one service's own folder, with the same test
botocore applies (a folder holding an API version with the model file); the full listing, for anyone who iterates
it, is botocore's own, made on first use. Everything else, search paths (``AWS_DATA_PATH``, ``~/.aws/models``)
included, is botocore's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any, overload

from botocore.loaders import Loader


class DirectLoader(Loader):
    """A botocore ``Loader`` whose service listing checks membership in the service's folder alone."""

    # a sorted sequence of names like botocore's list (what its callers use: ``in``, iteration, join), not a list
    def list_available_services(self, type_name: str) -> AvailableServices:  # type: ignore[override]
        return AvailableServices(self, type_name)

    def has_service(self, service_name: str, type_name: str) -> bool:
        """Whether some search path holds ``<service>/<api version>/<type_name>`` (botocore's test per service)."""
        for path in self.search_paths:
            folder = os.path.join(path, service_name)
            if not os.path.isdir(folder):
                continue
            if any(self.file_loader.exists(os.path.join(folder, version, type_name)) for version in os.listdir(folder)):
                return True
        return False


class AvailableServices(Sequence[str]):
    """The services with a ``type_name`` model: ``in`` looks at one folder; iterating lists them all (sorted)."""

    def __init__(self, loader: DirectLoader, type_name: str) -> None:
        self._loader = loader
        self._type_name = type_name
        self._known: dict[str, bool] = {}
        self._all: list[str] | None = None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name not in self._known:
            self._known[name] = self._loader.has_service(name, self._type_name)
        return self._known[name]

    def _listing(self) -> list[str]:
        if self._all is None:
            self._all = list(Loader.list_available_services(self._loader, self._type_name))
        return self._all

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._listing()[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._listing())

    def __len__(self) -> int:
        return len(self._listing())


def direct_loader(data_path: str | None) -> DirectLoader:
    """The loader botocore's session would make for ``data_path`` (its ``AWS_DATA_PATH`` setting), direct."""
    if data_path is None:
        return DirectLoader()
    paths = [os.path.expanduser(os.path.expandvars(path)) for path in data_path.split(os.pathsep)]
    return DirectLoader(extra_search_paths=paths)


def register_direct_loader(session: Any) -> None:
    """Make ``session`` (a ``botocore.session.Session``) load its service models through :class:`DirectLoader`."""
    session.register_component("data_loader", direct_loader(session.get_config_variable("data_path")))
