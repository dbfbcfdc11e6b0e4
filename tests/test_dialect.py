"""Every difference between the engines is an attribute of ``runtime._dialect.Dialect``.

The runtime asks the dialect what to do (``dialect.exact_numeric``,
``dialect.native_arrays``, ...) rather than comparing its name: a name
comparison scatters one engine's knowledge over the modules that use it.
The name stays as a key (DDL types, default SQL and caches per engine).
"""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

from runtime._dialect import POSTGRES, SQLITE, Dialect

RUNTIME = Path(__file__).resolve().parent.parent / "runtime"


def _is_dialect_name(node: ast.expr) -> bool:
    # ``dialect.name``, ``c.dialect.name``, ``engine.dialect.name``, ...
    if not (isinstance(node, ast.Attribute) and node.attr == "name"):
        return False
    owner = node.value
    return (isinstance(owner, ast.Name) and "dialect" in owner.id.lower()) or (
        isinstance(owner, ast.Attribute) and "dialect" in owner.attr.lower()
    )


def _is_engine_constant(node: ast.expr) -> bool:
    # ``dialect is SQLITE``, or a name compared as text: ``dialect == "postgres"``.
    if isinstance(node, ast.Constant):
        return node.value in {"sqlite", "postgres"}
    return isinstance(node, ast.Name) and node.id in {"SQLITE", "POSTGRES"}


def _comparisons(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_dialect_name(side) for side in sides) or any(
                _is_engine_constant(side) for side in sides
            ):
                lines.append(node.lineno)
    return lines


def test_the_runtime_compares_no_dialect_names() -> None:
    found = []
    for path in sorted(RUNTIME.rglob("*.py")):
        for line in _comparisons(ast.parse(path.read_text(), str(path))):
            found.append(f"{path.relative_to(RUNTIME)}:{line}")
    assert found == [], f"ask the Dialect instead of comparing its name: {found}"


def test_the_check_finds_each_form_of_comparison() -> None:
    # The check above can fail: each form it must catch is caught.
    for source in (
        'dialect.name == "sqlite"',
        'c.dialect.name != "postgres"',
        '"sqlite" == engine.dialect.name',
        "dialect is SQLITE",
        "dialect == POSTGRES",
        'self.dialect == "postgres"',
        'name != "sqlite"',
    ):
        assert _comparisons(ast.parse(source)) != [], source
    assert _comparisons(ast.parse("dialect.exact_numeric and column.name == 'x'")) == []


def test_every_difference_is_documented_and_set_per_engine() -> None:
    lines = (RUNTIME / "_dialect.py").read_text().splitlines()
    for field in fields(Dialect):
        if field.name == "name":
            continue  # the engine's name, a key rather than a difference
        declaration = next(
            i for i, line in enumerate(lines) if line.startswith(f"    {field.name}: ")
        )
        # Each attribute says, in a ``#:`` comment above it, what it decides.
        assert lines[declaration - 1].startswith("    #: "), field.name
    same = [f.name for f in fields(Dialect) if getattr(POSTGRES, f.name) == getattr(SQLITE, f.name)]
    assert same == [], f"attributes the engines share decide nothing: {same}"
