"""``piccolo-gen introspect`` against real databases, on both engines.

The oracle is the round trip: every schema of the project is created with
``create_tables``, introspected, and the file built again. Three things
must hold:

- the introspected file creates exactly the database it was read from:
  ``lower(state of the file) == read_schema(database)``, with no exception;
- its state equals the original schema's state, up to the documented
  exceptions (``_as_database_keeps``): what no database holds (a primary
  key's default, which the DDL never writes), and types a dialect cannot tell
  apart (``secret`` is ``text`` and ``email`` is ``varchar(255)`` on both; on
  SQLite also ``bigint``/``smallint``/``integer``, ``real``/``double_precision``,
  arrays, which are ``TEXT`` holding JSON, and an integer key named ``id``,
  which is the implicit serial);
- the generated code is the original's byte for byte, once the original
  file drops what lives in the code alone and never reaches a database
  (``_code_only_stripped``): help texts, ``choices`` and enums (a column
  with choices is read as its type, with its member's value as default),
  ``required``,
  many-to-many attributes, the module name (a schema that refers to another
  module is introspected together with it, as one file), the order of the
  tables (a database keeps none: the file lists them in foreign-key order)
  and of a table's indexes and unique constraints (listed by name),
  and a default that is the type's zero default anyway (``default: now`` on a
  timestamp, ``default: 0`` on an integer: the database cannot tell them from
  no default).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import _pg
import pytest

import generated
from generator.build import load_schemas, render_files
from generator.introspect import _python_value, _state_type, _zero_default, introspect
from generator.load import read_schema as load_file
from generator.model import ColumnSpec, SchemaFile, TableSpec
from generator.state import schema_state
from runtime import _naming, create_tables
from runtime._naming import snake_case
from runtime._engine import Engine, PostgresEngine, SQLiteEngine
from runtime.schema import state
from runtime.schema.compile import compiler_for
from runtime.schema.read import read_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schema"

#: Each project schema, with the schemas it refers to (introspected together).
ROUND_TRIPS: dict[str, list[str]] = {
    "music": ["music.yaml"],
    "shop": ["music.yaml", "shop.toml"],
    "features": ["features.yaml"],
    "inventory": ["inventory.yaml"],
    "keys": ["keys.yaml"],
}

_databases = itertools.count()


@contextlib.asynccontextmanager
async def fresh_postgres(server: str) -> AsyncIterator[PostgresEngine]:
    name = f"piccolo_gen_introspect_{os.getpid()}_{next(_databases)}"
    _pg.create_database(server, name)
    engine = PostgresEngine(config={"dsn": _pg.with_database(server, name)})
    try:
        yield engine
    finally:
        await engine.close()
        _pg.drop_database(server, name)


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Engine]:
    if request.param == "sqlite":
        sqlite = SQLiteEngine(tmp_path / "introspect.sqlite")
        yield sqlite
        await sqlite.close()
        return
    async with fresh_postgres(request.getfixturevalue("pg_dsn")) as postgres:
        yield postgres


# -- the documented exceptions ------------------------------------------------------


def _stored_type(type_: state.Type, dialect: str, *, key_id: bool = False) -> state.Type:
    """A type as the database can tell it apart from others."""
    kind = type_.kind
    if kind == "Secret":
        return state.Type("Text")
    if kind == "Email":
        return state.Type("Varchar", length=255)
    if dialect == "sqlite":
        if kind in ("BigInt", "SmallInt") or (kind == "Integer" and key_id):
            return state.Type("Serial" if key_id else "Integer")
        if kind == "DoublePrecision":
            return state.Type("Real")
        if kind == "Array":
            return state.Type("Text")
    if type_.element is not None:
        return replace(type_, element=_stored_type(type_.element, dialect))
    return type_


def _as_database_keeps(schema: state.Schema, dialect: str) -> state.Schema:
    """``schema`` with the documented exceptions applied (see the module doc)."""
    compiler = compiler_for(dialect)
    tables = []
    for table in schema.tables:
        columns = []
        for column in table.columns:
            key_id = column.primary_key and column.name == "id"
            type_ = _stored_type(column.type, dialect, key_id=key_id)
            default = None if column.primary_key else column.default
            if type_ != column.type and default is not None:
                # Read back as the stored type: the DEFAULT text, as that type's value.
                default = compiler.default_sql(replace(column, default=default))
                default = _SQL_DEFAULT(default) if default is not None else None
            columns.append(replace(column, type=type_, default=default))
        tables.append(replace(table, columns=tuple(columns)))
    return state.Schema(tuple(tables))


class _SQL_DEFAULT:  # noqa: N801 - a marker compared by its SQL text
    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SQL_DEFAULT) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _sql_defaults(schema: state.Schema, dialect: str) -> state.Schema:
    """Defaults as their SQL text, for columns whose type was collapsed above."""
    compiler = compiler_for(dialect)
    tables = []
    for table in schema.tables:
        columns = []
        for column in table.columns:
            if column.default is not None and not isinstance(column.default, _SQL_DEFAULT):
                text = compiler.default_sql(column)
                columns.append(
                    replace(column, default=_SQL_DEFAULT(text) if text is not None else None)
                )
            else:
                columns.append(column)
        tables.append(replace(table, columns=tuple(columns)))
    return state.Schema(tuple(tables))


def _zero(spec: ColumnSpec) -> bool:
    """Whether ``spec``'s default is the one the build gives a column without one."""
    data = spec.model_dump(exclude_defaults=True)
    if spec.default is None or spec.type in ("foreign_key", "m2m"):
        return False
    type_ = _state_type(data)
    compiler = compiler_for("postgres")

    def sql(default: Any) -> str | None:
        return compiler.default_sql(state.Column("c", type_, null=spec.null, default=default))

    zero = None if spec.null else _zero_default(type_)
    return sql(_python_value(spec.default, data)) == sql(zero)


def _code_only_stripped(specs: list[SchemaFile], order: list[str]) -> SchemaFile:
    """The project files as one, without what only the generated code holds."""
    tables: dict[str, TableSpec] = {}
    for spec in specs:
        for name, table in spec.tables.items():
            columns: dict[str, ColumnSpec] = {}
            for key, column in table.columns.items():
                if column.type == "m2m":
                    continue
                changes: dict[str, Any] = {
                    "help_text": None,
                    "choices": None,
                    "required": False,
                    "renamed_from": None,
                }
                if column.choices is not None:
                    # The default is the member's value (without one, the
                    # first member's, as create_tables writes it).
                    members = spec.enums[column.choices]
                    if column.default is not None:
                        changes["default"] = members[str(column.default)]
                    elif not column.null:
                        changes["default"] = next(iter(members.values()))
                if column.references is not None:
                    changes["references"] = column.references.rpartition(".")[2]
                if column.primary_key or _zero(column):
                    changes["default"] = None
                if column.type == "secret":
                    changes["type"] = "text"
                if column.type == "email":
                    changes.update(type="varchar", length=255)
                if column.type == "char" and column.length == 1:
                    changes["length"] = None
                for action in ("on_delete", "on_update"):
                    if getattr(column, action) == "cascade":
                        changes[action] = None
                columns[key] = column.model_copy(update=changes)
            tablename = table.tablename or snake_case(name)

            def db_names(keys: list[str], table: TableSpec = table) -> list[str]:
                return [table.columns[k].db_column_name or k if k in table.columns else k for k in keys]

            indexes = sorted(
                table.indexes,
                key=lambda i: i.name or _naming.index_name(tablename, db_names(i.columns)),
            )
            unique = sorted(
                table.unique, key=lambda u: _naming.unique_name(tablename, db_names(u))
            )
            tables[name] = table.model_copy(
                update={
                    "help_text": None,
                    "renamed_from": None,
                    "columns": columns,
                    "indexes": indexes,
                    "unique": unique,
                }
            )
    return SchemaFile(tables={name: tables[name] for name in order})


def _yaml(spec: SchemaFile) -> str:
    from generator.introspect import _scalar

    lines = ["tables:"]
    for name, table in spec.tables.items():
        lines.append(f"  {name}:")
        if table.tablename:
            lines.append(f"    tablename: {table.tablename}")
        lines.append("    columns:")
        for key, column in table.columns.items():
            data = column.model_dump(exclude_defaults=True)
            lines.append(f"      {key}: {_scalar(data)}")
        if table.indexes:
            lines.append("    indexes:")
            for index in table.indexes:
                lines.append(f"      - {_scalar(index.model_dump(exclude_defaults=True))}")
        if table.unique:
            lines.append(f"    unique: {_scalar(table.unique)}")
    return "\n".join(lines) + "\n"


def _generated(path: Path) -> str:
    modules, errors = load_schemas([path])
    assert not errors, errors
    return render_files(modules, "out")[f"{path.stem}.py"]


def _classes_in_order(text: str) -> list[str]:
    return [
        line.strip().rstrip(":")
        for line in text.splitlines()
        if line.startswith("  ") and not line.startswith("   ") and line.strip().endswith(":")
    ]


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
async def test_round_trip(db: Engine, tmp_path: Path, name: str) -> None:
    dialect = db.dialect.name
    files = [SCHEMA / f for f in ROUND_TRIPS[name]]
    modules = [getattr(generated, Path(f).stem) for f in ROUND_TRIPS[name]]
    tables = [t for m in modules for t in m.TABLES]
    await create_tables(*tables).run(engine=db)
    original = state.of_tables(tables)

    result = await introspect(db)
    assert result.left_out == ()
    path = tmp_path / "introspected" / f"{name}.yaml"
    path.parent.mkdir()
    path.write_text(result.text)
    rebuilt = schema_state([path])
    assert isinstance(rebuilt, state.Schema), rebuilt

    # 1. The file creates the database it was read from.
    compiler = compiler_for(dialect)
    assert compiler.lower(rebuilt) == await read_schema(db)
    assert compiler.lower(rebuilt) == compiler.lower(original)

    # 2. Its state is the original's, up to what the database cannot tell apart.
    expected = _sql_defaults(_as_database_keeps(original, dialect), dialect)
    assert _sql_defaults(_as_database_keeps(rebuilt, dialect), dialect) == expected

    # 3. The generated code, up to what only the code holds (PostgreSQL keeps
    # every type apart; SQLite's collapsed types are covered by 1 and 2).
    if dialect == "postgres":
        specs = []
        for file in files:
            loaded, errors = load_file(file)
            assert loaded is not None and not errors
            specs.append(loaded.spec)
        stripped = tmp_path / "original" / f"{name}.yaml"
        stripped.parent.mkdir()
        stripped.write_text(_yaml(_code_only_stripped(specs, _classes_in_order(result.text))))
        assert _generated(path) == _generated(stripped)
