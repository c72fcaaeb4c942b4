"""The library's import graph, read from the source (AST): no cycle, and the registry's table stays behind it.

Which imports count: every ``import``/``from … import`` anywhere in a module — at the top, inside a function,
under ``if TYPE_CHECKING`` — since each is a dependency someone has to understand. An import points at the
deepest module it names (``from sluice.registry import codec`` → ``sluice.registry.codec``; ``from
sluice.registry import Status`` → the package ``sluice.registry``). The parent packages Python initialises on
the way are not counted: a package importing its own submodules is how packages are built, not a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "layers" / "sluice" / "python"
REGISTRY = "sluice.registry"
CODEC = "sluice.registry.codec"
DYNAMODB_ITEM_CALLS = frozenset({
    "get_item", "put_item", "update_item", "delete_item", "query", "scan", "batch_get_item", "batch_write_item",
    "transact_get_items", "transact_write_items", "execute_statement", "batch_execute_statement",
    "execute_transaction"})


def _library_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted((LIBRARY / "sluice").rglob("*.py")):
        parts = list(path.relative_to(LIBRARY).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported(tree: ast.AST, module: str, *, is_package: bool, known: Iterable[str]) -> set[str]:
    """The modules of ``known`` that ``module``'s source imports, anywhere in it."""
    names = set(known)
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if target in names:
                    found.add(target)
                elif base in names:
                    found.add(base)
    found.discard(module)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def table_calls(tree: ast.AST) -> Iterator[str]:
    """Calls of DynamoDB item operations (``x.update_item(TableName=…)``, the shape of boto3's client)."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in DYNAMODB_ITEM_CALLS
                and any(keyword.arg in ("TableName", "TransactItems", "RequestItems", "Statement")
                        for keyword in node.keywords)):
            yield f"{node.func.attr} (line {node.lineno})"


def _outside_registry() -> Iterator[tuple[str, Path]]:
    for module, path in _library_modules().items():
        if module != REGISTRY and not module.startswith(REGISTRY + "."):
            yield module, path
    for folder in ("functions", "benchmarks", "infra"):
        for path in sorted((REPO / folder).rglob("*.py")):
            yield str(path.relative_to(REPO)), path


def test_the_library_has_no_import_cycle() -> None:
    # GIVEN the import graph of every library module
    modules = _library_modules()
    graph = {module: imported(ast.parse(path.read_text()), module, is_package=path.name == "__init__.py",
                              known=modules) for module, path in modules.items()}
    # THEN no group of modules imports itself round
    assert cycles(graph) == []
    # AND the release steps depend one way: deploy on release, never back
    assert "sluice.steps.release" in graph["sluice.steps.deploy"]
    assert "sluice.steps.deploy" not in graph["sluice.steps.release"]


def test_nothing_outside_the_registry_reaches_its_table_or_codec() -> None:
    # GIVEN every module outside registry/ (library, functions, benchmarks, infra)
    modules = _library_modules()
    offenders = {}
    for name, path in _outside_registry():
        tree = ast.parse(path.read_text())
        reasons = [f"imports {CODEC}"] if CODEC in imported(tree, name, is_package=path.name == "__init__.py",
                                                             known=modules) else []
        reasons += [f"calls {call}" for call in table_calls(tree)]
        if reasons:
            offenders[name] = reasons
    # THEN none imports the codec or calls DynamoDB item operations: the registry's interfaces are the way in
    assert offenders == {}


def test_the_checks_see_what_they_look_for() -> None:
    # GIVEN sources that break each rule, in the forms the rules name
    known = {"sluice.registry", CODEC, "sluice.steps.a", "sluice.steps.b"}
    late = ast.parse("def f():\n    from sluice.registry import codec\n    db.update_item(TableName=t, Key=k)\n")
    relative = ast.parse("from .b import run\n")
    # THEN a function-level codec import, a table call, a relative import and a cycle are all found
    assert imported(late, "sluice.steps.a", is_package=False, known=known) == {CODEC}
    assert list(table_calls(late)) == ["update_item (line 3)"]
    assert imported(relative, "sluice.steps.a", is_package=False, known=known) == {"sluice.steps.b"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert list(table_calls(ast.parse("frame.query('x > 1')\n"))) == []
