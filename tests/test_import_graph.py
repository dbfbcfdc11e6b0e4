"""The runtime's modules import each other in one direction only.

Tables build queries, queries hold conditions, conditions hold columns; a
module that must recognise an object of a layer above checks against its
base class in ``runtime._roles``. So no module patches another's globals,
no import waits at the bottom of a file for a cycle to resolve, and each
module imports on its own, first, in a fresh interpreter.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import runtime
from runtime._columns import Column, ForeignKey, Numeric, Real, _IntegerColumn
from runtime._expr import IntegerOps, NumericOps, RealOps
from runtime._roles import ColumnRole, ForeignKeyRole, TableRole
from runtime._table import Table

ROOT = Path(runtime.__file__).parent
FILES = sorted(ROOT.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = ("runtime", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = [_module_name(path) for path in FILES]

#: Function-level imports that stay, each for the reason its comment gives:
#: (module, function, imported module).
LAZY_IMPORTS = {
    # asyncpg costs tens of milliseconds that SQLite-only applications skip.
    ("runtime._postgres", "_asyncpg", "asyncpg"),
    # argon2-cffi is the optional `auth` extra, needed by user tables only.
    ("runtime._auth", "_argon2", "argon2"),
    # These build instances of subclasses defined in the modules they import,
    # which import this one (``JSONPath`` derives from ``JSON``; ``Numeric``
    # and ``DoublePrecision`` from ``_expr``'s operator classes).
    ("runtime._columns", "arrow", "runtime._json"),
    ("runtime._columns", "from_path", "runtime._json"),
    ("runtime._expr", "arithmetic", "runtime._columns"),
}


def _package(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _imported(node: ast.Import | ast.ImportFrom, module: str, path: Path) -> list[str]:
    """The modules ``node`` imports (a ``from`` import of a submodule names it)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = _package(module, path)
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        base = f"{base}.{node.module}" if node.module else base
    else:
        base = node.module or ""
    submodules = [f"{base}.{alias.name}" for alias in node.names]
    found = [name for name in submodules if name in MODULES]
    return found or [base]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The module-level imports that run (``if TYPE_CHECKING:`` bodies do not)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node):
                found += _runtime_imports(node.body)
            found += _runtime_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                found += _runtime_imports(block)
            for handler in node.handlers:
                found += _runtime_imports(handler.body)
    return found


def _parsed() -> list[tuple[str, Path, ast.Module]]:
    return [(module, path, ast.parse(path.read_text())) for module, path in zip(MODULES, FILES)]


def test_the_scan_sees_every_runtime_module() -> None:
    # A guard for the tests below: a pattern that matched nothing would pass them.
    assert {"runtime._columns", "runtime._sql", "runtime._table", "runtime._roles"} <= set(MODULES)
    assert "runtime.schema.state" in MODULES
    graph = _graph()
    assert "runtime._sql" in graph["runtime._columns"]
    assert "runtime._roles" in graph["runtime._sql"]  # through its ``else:`` of TYPE_CHECKING


def test_no_module_assigns_another_modules_global() -> None:
    offences = []
    for module, path, tree in _parsed():
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported = _imported(node, module, path)
                modules |= {
                    alias.asname or alias.name
                    for alias in node.names
                    if any(name.endswith(f".{alias.name}") for name in imported)
                }
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            elif isinstance(node, ast.Delete):
                targets = node.targets
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("setattr", "delattr")
                and node.args
            ):
                targets = [ast.Attribute(value=node.args[0], attr="?")]
            for target in targets:
                # ``module.name = ...``, or ``module.Class.name = ...`` alike.
                root = target
                while isinstance(root, ast.Attribute):
                    root = root.value
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(root, ast.Name)
                    and root.id in modules
                ):
                    offences.append(f"{path.name}:{target.lineno} sets {ast.unparse(target)}")
    assert offences == []


def test_no_import_after_the_first_definition() -> None:
    offences = []
    for _module, path, tree in _parsed():
        defined = False
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined = True
            elif defined and (
                isinstance(node, (ast.Import, ast.ImportFrom)) or _runtime_imports([node])
            ):
                offences.append(f"{path.name}:{node.lineno}")
    assert offences == []


class _Nested(ast.NodeVisitor):
    """Imports inside functions and class bodies, but not under ``TYPE_CHECKING``."""

    def __init__(self) -> None:
        self.scopes: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = []
        self.found: list[
            tuple[
                ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, ast.Import | ast.ImportFrom
            ]
        ] = []

    def _scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scopes.append(node)
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scope

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node):
            self.generic_visit(node)
        else:  # annotations only
            for child in node.orelse:
                self.visit(child)

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if self.scopes:
            self.found.append((self.scopes[-1], node))

    visit_Import = visit_ImportFrom = _import


def _says_why(
    lines: list[str],
    node: ast.Import | ast.ImportFrom,
    scope: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
) -> bool:
    """Whether the reason for a nested import is written next to it: a comment
    on its line (not a ``type: ignore``) or right above it, or the docstring of
    the function holding it says why it imports."""
    comment = lines[node.lineno - 1].partition("#")[2].strip()
    if comment and not comment.startswith(("type: ignore", "noqa")):
        return True
    return lines[node.lineno - 2].strip().startswith("#") or "import" in (
        ast.get_docstring(scope) or ""
    )


def test_function_level_imports_are_the_listed_lazy_ones_with_their_reason() -> None:
    found = set()
    uncommented = []
    for module, path, tree in _parsed():
        lines = path.read_text().splitlines()
        nested = _Nested()
        nested.visit(tree)
        for scope, node in nested.found:
            for name in _imported(node, module, path):
                found.add((module, scope.name, name))
            if not _says_why(lines, node, scope):
                uncommented.append(f"{path.name}:{node.lineno}")
    assert found == LAZY_IMPORTS
    assert uncommented == []


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path, tree in _parsed():
        graph[module] = {
            name
            for node in _runtime_imports(tree.body)
            for name in _imported(node, module, path)
            if name.startswith("runtime") and name != module
        }
    return graph


def test_module_level_imports_form_no_cycle() -> None:
    # The packages import their modules by design (and run before any of
    # them); the modules' own imports must form no cycle.
    packages = {"runtime", "runtime.schema"}
    graph = {m: deps - packages for m, deps in _graph().items() if m not in packages}
    cycles = []
    state: dict[str, str] = {}

    def visit(module: str, stack: list[str]) -> None:
        state[module] = "open"
        for dep in sorted(graph[module]):
            if state.get(dep) == "open":
                cycles.append(" -> ".join([*stack[stack.index(dep) :], dep]))
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


_ALONE = textwrap.dedent("""
    import importlib, importlib.util, sys, types
    # The package without its __init__ (which imports every module in its own
    # order): the module under test is then the first one imported.
    for name, path in (("runtime", {root!r}), ("runtime.schema", {schema!r})):
        package = types.ModuleType(name)
        package.__path__ = [path]
        package.__spec__ = importlib.util.spec_from_loader(name, None, is_package=True)
        package.__spec__.submodule_search_locations = [path]
        sys.modules[name] = package
    importlib.import_module(sys.argv[1])
    print(sorted(m for m in sys.modules if m.startswith("runtime.") and m != "runtime.schema"))
    """)


@pytest.mark.parametrize("module", [m for m in MODULES if m not in ("runtime", "runtime.schema")])
def test_each_module_imports_on_its_own_in_a_fresh_interpreter(module: str) -> None:
    # As an application imports it (the package first), then as the first module.
    plain = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, cwd=ROOT.parent
    )
    assert plain.returncode == 0, plain.stderr
    code = _ALONE.format(root=str(ROOT), schema=str(ROOT / "schema"))
    alone = subprocess.run(
        [sys.executable, "-c", code, module], capture_output=True, text=True, cwd=ROOT.parent
    )
    assert alone.returncode == 0, alone.stderr
    if module == "runtime._roles":
        # The leaf: it imports nothing else of the runtime.
        assert alone.stdout.strip() == "['runtime._roles']"


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


@pytest.mark.parametrize(
    ("role", "concrete"),
    [
        (ColumnRole, Column),
        (ForeignKeyRole, ForeignKey),
        (TableRole, Table),
        # ``kind_of`` tells a number kind by its operator class.
        (IntegerOps, _IntegerColumn),
        (NumericOps, Numeric),
        (RealOps, Real),
    ],
)
def test_only_its_class_derives_from_a_role(role: type, concrete: type) -> None:
    # Modules narrow ``isinstance(x, role)`` to the concrete class for the type
    # checker (see runtime._roles): true only while nothing else derives the role.
    generated = ["generated.features", "generated.inventory", "generated.keys"]
    for name in [*MODULES, *generated, "generated.music", "generated.shop"]:
        importlib.import_module(name)  # their classes count too
    subclasses = _subclasses(role)
    assert concrete in subclasses
    roles = {cls for cls in subclasses if cls.__module__ == "runtime._roles"}
    assert {cls for cls in subclasses - roles if not issubclass(cls, concrete)} == set()
