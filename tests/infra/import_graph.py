"""Every sluice module a handler can ever import, read from the source (no import runs).

Follows every ``import`` statement, at module level or inside a function (an import at a call site still runs
in Lambda), except those under ``if TYPE_CHECKING:``, and resolves ``from sluice.<package> import <name>``
through the package's lazy exports (``sluice.lazy.declared_exports``) or to the submodule of that name.
"""

from __future__ import annotations

import ast
from pathlib import Path

from sluice.lazy import declared_exports


def module_file(library: Path, module: str) -> Path | None:
    """The file of ``sluice.<...>`` under ``library`` (the folder holding ``sluice/``), or None."""
    base = library.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _statements(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (never run)."""
    nodes: list[ast.AST] = []
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
            nodes.extend(node for statement in child.orelse for node in [statement, *_statements(statement)])
            continue
        nodes.append(child)
        nodes.extend(_statements(child))
    return nodes


def _imported(library: Path, source: Path) -> set[str]:
    found: set[str] = set()
    for node in _statements(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "sluice")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                node.module.split(".")[0] == "sluice":
            found.add(node.module)
            exports = declared_exports(package.read_text()) if (package := module_file(library, node.module)) \
                and package.name == "__init__.py" else {}
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if module_file(library, submodule) is not None:
                    found.add(submodule)
                elif alias.name in exports:
                    found.add(exports[alias.name])
    # importing a.b.c runs a/__init__ and a/b/__init__ too
    return {".".join(name.split(".")[:depth]) for name in found for depth in range(1, name.count(".") + 2)}


def reachable(library: Path, entry: Path) -> set[str]:
    """The sluice modules ``entry`` (a handler file) imports, directly or through other sluice modules."""
    seen: set[str] = set()
    pending = list(_imported(library, entry))
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = module_file(library, module)
        if path is not None:
            pending.extend(_imported(library, path) - seen)
    return seen
