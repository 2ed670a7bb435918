"""The package's shape, checked from its source: no import cycle (between modules or between packages), a pure
domain, nothing of the developer's tools in what Lambda runs, and modules small enough to read in one sitting.

Imports are read with `ast` (every `import` statement, at module level or inside a function, but not those under
`if TYPE_CHECKING:`, which only type checkers run). A unit is a subpackage of `copytrader` (`copying`, `store`, ...)
or a top-level module (`model`, `money`, ...).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

import copytrader

PACKAGE = Path(copytrader.__file__).parent
REPO = PACKAGE.parents[1]
# The pure domain: contracts, money, the copy decision and sizing, the risk rules and account book, statistics and
# the scorer's statistics. None of it may reach AWS, HTTP, a store, a workflow or a handler.
PURE = ("model", "money", "reasons", "errors", "copying", "risk", "stats", "scoring")
FORBIDDEN_IN_PURE = ("boto3", "botocore", "pynamodb", "httpx", "urllib3", "aws_lambda_powertools", "functions")
FORBIDDEN_UNITS_IN_PURE = ("store", "workflows", "runtime", "execution", "listener", "discovery", "cli", "local", "sim")
# What never ships to Lambda (excluded from the domain layer, infra/copytrader_infra/layer_build.py)
DEV_TOOLS = ("cli", "local", "sim")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path, module: str, modules: frozenset[str] = frozenset()) -> Iterator[str]:
    """What `path` imports: a module, or for `from package import name` the module `package.name` when it is one."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node):
            skipped.update(id(child) for child in ast.walk(node))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                yield submodule if submodule in modules else target


@cache
def graph() -> dict[str, frozenset[str]]:
    """Module -> the copytrader modules (and any third-party top-level names) it imports."""
    modules = _modules()
    names = frozenset(modules)
    edges = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path, name, names):
            if imported.startswith("copytrader"):
                while imported not in modules and "." in imported:  # `from pkg import name`: the module
                    imported = imported.rsplit(".", 1)[0]
                if imported in modules and imported != name:
                    targets.add(imported)
            else:
                targets.add(imported.split(".")[0])
        edges[name] = frozenset(targets)
    return edges


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _internal(module: str) -> set[str]:
    return {t for t in graph()[module] if t.startswith("copytrader")}


def test_no_module_imports_itself_back():
    edges = {m: _internal(m) for m in graph()}
    assert _cycles(edges) == []


def test_no_two_packages_import_each_other():
    edges: dict[str, set[str]] = {}
    for module in graph():
        edges.setdefault(unit(module), set()).update(unit(t) for t in _internal(module) if unit(t) != unit(module))
    assert _cycles(edges) == []


@pytest.mark.parametrize("package", PURE)
def test_the_pure_domain_imports_no_io_no_store_no_workflow(package: str):
    offending = {
        module: sorted(
            t
            for t in graph()[module]
            if t in FORBIDDEN_IN_PURE or (t.startswith("copytrader") and unit(t) in FORBIDDEN_UNITS_IN_PURE)
        )
        for module in graph()
        if unit(module) == package
    }
    assert {m: bad for m, bad in offending.items() if bad} == {}


def test_importing_the_pure_domain_loads_no_aws_http_or_store_module():
    pure = sorted(m for m in graph() if unit(m) in PURE)
    code = (
        "import importlib, sys\n"
        f"for m in {pure!r}: importlib.import_module(m)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN_IN_PURE!r} or "
        f"n.split('.')[:2] in [['copytrader', u] for u in {FORBIDDEN_UNITS_IN_PURE!r}])\n"
        "print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]"


def test_nothing_lambda_runs_imports_the_developers_tools():
    shipped = [m for m in graph() if unit(m) not in DEV_TOOLS]
    offending = {m: sorted(t for t in _internal(m) if unit(t) in DEV_TOOLS) for m in shipped}
    assert {m: bad for m, bad in offending.items() if bad} == {}
    handlers = sorted(REPO.glob("functions/*/handler.py"))
    assert handlers
    for handler in handlers:
        imported = set(_imports(handler, "handler", frozenset(graph())))
        assert not {i for i in imported if i.startswith("copytrader") and unit(i) in DEV_TOOLS}, handler


def test_every_module_reads_in_one_sitting():
    sources = [*PACKAGE.rglob("*.py"), *(REPO / "infra").rglob("*.py"), *(REPO / "functions").rglob("*.py")]
    long = {str(p.relative_to(REPO)): n for p in sources if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}
