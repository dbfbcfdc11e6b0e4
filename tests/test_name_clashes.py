"""The names a generated module takes from elsewhere, which schemas may not reuse.

``generator.resolve.MODULE_IMPORTS`` is the one list of them; validation
refuses a table, enum or column of such a name (the messages are
snapshotted in ``tests/cases/module_name_clash``). These tests keep the list
and the case complete.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

from generator.load import load_file
from generator.pydantic_models import RESERVED_FIELD_NAMES
from generator.resolve import MODULE_IMPORTS

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "tests" / "cases" / "module_name_clash" / "schema.yaml"


def _generated_modules(*, models: bool = False) -> list[Path]:
    """The table modules, or with ``models`` the pydantic models modules."""
    modules = [*(ROOT / "generated").glob("*.py"), *(ROOT / "bench" / "generated").glob("*.py")]
    return [
        path
        for path in modules
        if path.name != "__init__.py" and path.stem.endswith("_models") == models
    ]


def _imported_names(paths: list[Path]) -> set[str]:
    imported: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module not in ("__future__", None):
                imported.update(alias.asname or alias.name for alias in node.names)
            elif isinstance(node, ast.Import):
                imported.update(alias.asname or alias.name for alias in node.names)
    return imported


def test_every_name_a_generated_module_imports_is_listed() -> None:
    imported = _imported_names(_generated_modules())
    # Runtime, typing and stdlib names of features.py, music.py, ... (the
    # relative imports of other generated modules are private ``_name``\\ s).
    assert len(imported) > 40
    assert imported <= set(MODULE_IMPORTS)


def test_every_name_a_models_module_imports_is_refused_or_renamed() -> None:
    """A models module's imports are names no column has (``MODULE_IMPORTS``)
    or names a field takes with a trailing ``_`` (``RESERVED_FIELD_NAMES``,
    docs/pydantic.md), so no field hides them in its class body."""
    imported = _imported_names(_generated_modules(models=True))
    assert {"BaseModel", "Field", "TimestampNow", "datetime"} <= imported
    assert imported - set(MODULE_IMPORTS) <= RESERVED_FIELD_NAMES


def test_every_builtin_the_annotations_use_is_listed() -> None:
    used: set[str] = set()
    for path in _generated_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Annotations and decorators only: column names also appear as Names
        # (``id``) but are the schema's, not the generator's.
        for node in ast.walk(tree):
            targets: list[ast.expr | None] = []
            if isinstance(node, ast.AnnAssign):
                targets.append(node.annotation)
            elif isinstance(node, ast.FunctionDef):
                targets += node.decorator_list
                targets += [a.annotation for a in ast.walk(node.args) if isinstance(a, ast.arg)]
                targets.append(node.returns)
            for target in targets:
                if target is not None:
                    used.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    used_builtins = {name for name in used if name in dir(builtins) and name != "None"}
    assert {"int", "str", "classmethod", "object"} <= used_builtins
    assert used_builtins <= set(MODULE_IMPORTS)


def test_the_case_refuses_every_listed_name_as_table_and_column() -> None:
    schema = load_file(CASE)
    assert not isinstance(schema, list), schema
    tables = schema.spec.tables
    assert set(MODULE_IMPORTS) <= set(tables)
    assert set(MODULE_IMPORTS) <= set(tables["Item"].columns)
    expected = (CASE.parent / "expected_errors.txt").read_text(encoding="utf-8")
    for name in MODULE_IMPORTS:
        assert f"tables.{name}: table {name!r} uses the reserved name" in expected
        assert f"tables.Item.columns.{name}: invalid column name: {name!r} would hide" in expected
