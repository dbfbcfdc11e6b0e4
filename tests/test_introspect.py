"""``piccolo-gen introspect`` against real databases, on both engines.

The oracle is the round trip: every schema file of the project
(``schema/*.yaml``, ``*.toml``) and the test suite's schemas that build
(``TEST_SCHEMAS``) is created with ``create_tables`` on a fresh database,
introspected, and the file built again. Three things must hold:

- the introspected file creates exactly the database it was read from:
  ``lower(state of the file) == read_schema(database)``, with no exception
  (its views: ``compare`` finds no difference, see ``runtime.schema.compare``);
- its state equals the original schema's state, up to the documented
  exceptions (``_as_database_keeps``): what no database holds (a primary
  key's default, which the DDL never writes), and types a dialect cannot tell
  apart (``READ_AS``);
- the generated code is the original's byte for byte, on both engines, once
  the original file has the types a dialect cannot tell apart as it reads
  them (``READ_AS``, each with its reason, listed in
  docs/existing-databases.md) and drops what lives in the code alone and
  never reaches a database (``_code_only_stripped``): help texts, ``choices`` and enums (a column
  with choices is read as its type, with its member's value as default),
  ``required`` where the database cannot tell it (on a key, a foreign key or
  a nullable column, none of which has a default anyway),
  many-to-many attributes, the module name (a schema that refers to another
  module is introspected together with it, as one file), the order of the
  tables (a database keeps none: the file lists them in foreign-key order)
  and of a table's indexes and unique constraints (listed by name),
  and a default that is the type's zero default anyway (``default: now`` on a
  timestamp, ``default: 0`` on an integer: the database cannot tell them from
  no default).

Views (``_views_stripped``): the SQL is the database's own spelling
(PostgreSQL deparses it; SQLite keeps the dialect's text as written); what
only the code holds goes (help texts, ``null``, which no catalog keeps for a
view's column, foreign keys, which are join paths and no constraint, and the
key of a plain view); SQLite has no materialized views (read as plain ones,
without their indexes) and types no view column that is not a table's
column (introspect leaves such a column out, and says so: the only lines of
``left_out`` a round trip may have).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import itertools
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import _pg
import pytest

from generator.build import collect_schema_files, load_schemas, render_files, validate_schemas
from generator.introspect import _python_value, _state_type, _zero_default, introspect
from generator.load import read_schema as load_file
from generator.model import ColumnSpec, SchemaFile, TableSpec, ViewSpec
from generator.state import schema_state
from runtime import _naming, create_tables
from runtime._engine import Engine, PostgresEngine, SQLiteEngine
from runtime._naming import snake_case
from runtime.migrations.drift import drift
from runtime.schema import state
from runtime.schema.compare import compare
from runtime.schema.compile import compiler_for
from runtime.schema.compile._base import SQLDefault
from runtime.schema.database import DbSchema
from runtime.schema.read import read_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schema"

CASES = ROOT / "tests" / "cases"

#: The other schemas of the repository that build (the test suite's, the
#: benchmark's), each with the files it refers to (built and introspected
#: together). Add a schema here to have it round-trip.
TEST_SCHEMAS: dict[str, list[Path]] = {
    "cases/foreign_key_cycle": [CASES / "foreign_key_cycle" / "cycles.yaml"],
    "bench/models": [ROOT / "bench" / "schema" / "models.yaml"],
}


def _project_schemas() -> dict[str, list[Path]]:
    """Every schema file of the project (``schema/*.yaml``, ``*.toml``), with the
    files it refers to, directly or not (introspected together)."""
    files, errors = collect_schema_files([SCHEMA])
    validated, errors = validate_schemas(files)
    assert validated is not None and not errors, errors
    by_module = {s.module: s for s in validated.schemas}
    found: dict[str, list[Path]] = {}
    for schema in validated.schemas:
        needed, stack = {schema.module}, [schema.module]
        while stack:
            for module in validated.imported_modules(by_module[stack.pop()]):
                if module not in needed:
                    needed.add(module)
                    stack.append(module)
        found[schema.module] = [s.path for s in validated.schemas if s.module in needed]
    return found


#: Each schema, with the schemas it refers to (introspected together).
ROUND_TRIPS: dict[str, list[Path]] = {**_project_schemas(), **TEST_SCHEMAS}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[ModuleType]]]:
    """The modules of each round trip: the project's from ``generated`` (a fresh
    build of ``schema/``, which ``build --check`` keeps it), the test suite's
    built once into packages of their own."""
    modules: dict[str, list[ModuleType]] = {}
    packages = []
    for position, (name, files) in enumerate(ROUND_TRIPS.items()):
        if name not in TEST_SCHEMAS:
            modules[name] = [importlib.import_module(f"generated.{f.stem}") for f in files]
            continue
        package = f"_round_trip_{position}"
        out = tmp_path_factory.mktemp("round_trip") / package
        resolved, errors = load_schemas(files)
        assert not errors, errors
        out.mkdir()
        for file, text in render_files(resolved, package).items():
            (out / file).write_text(text)
        spec = importlib.util.spec_from_file_location(
            package, out / "__init__.py", submodule_search_locations=[str(out)]
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        packages.append(package)
        spec.loader.exec_module(module)
        modules[name] = [getattr(module, f.stem) for f in files]
    yield modules
    for key in [k for k in sys.modules if k.split(".")[0] in packages]:
        del sys.modules[key]


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
        if key_id and kind in ("Integer", "BigInt", "SmallInt", "Serial", "BigSerial"):
            return state.Type("Serial")  # the rowid
        if kind in ("BigInt", "SmallInt"):
            return state.Type("Integer")
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
            key_id = column.primary_key
            type_ = _stored_type(column.type, dialect, key_id=key_id)
            default = None if column.primary_key else column.default
            if type_ != column.type and default is not None:
                # Read back as the stored type: the DEFAULT text, as that type's value.
                default = compiler.default_sql(replace(column, default=default))
                default = SQLDefault(default) if default is not None else None
            columns.append(replace(column, type=type_, default=default))
        tables.append(replace(table, columns=tuple(columns)))
    return replace(schema, tables=tuple(tables))


def _sql_defaults(schema: state.Schema, dialect: str) -> state.Schema:
    """Defaults as their SQL text, for columns whose type was collapsed above."""
    compiler = compiler_for(dialect)
    tables = []
    for table in schema.tables:
        columns = []
        for column in table.columns:
            if column.default is not None and not isinstance(column.default, SQLDefault):
                text = compiler.default_sql(column)
                columns.append(
                    replace(column, default=SQLDefault(text) if text is not None else None)
                )
            else:
                columns.append(column)
        tables.append(replace(table, columns=tuple(columns)))
    return replace(schema, tables=tuple(tables))


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


@dataclass(frozen=True)
class ReadAs:
    """A type that ``dialect`` cannot tell from another: a column of ``type``
    (``"<type> key"``: a primary key of it) is read back with the options
    ``becomes``, for the reason ``why``."""

    dialect: str
    type: str
    becomes: dict[str, Any]
    why: str
    #: The default as the other type reads it (``None``: the same value).
    default: Callable[[Any], Any] | None = None


def _json_text(value: Any) -> str:
    """An array's value as the JSON text SQLite's DDL stores (compact)."""
    return json.dumps(value, separators=(",", ":"))


#: The documented exceptions of the round trip, which the original file is
#: normalised by before its build is compared (docs/existing-databases.md,
#: "Types a database cannot tell apart", lists the same). Every other type,
#: on both engines, must come back as it was written.
READ_AS: tuple[ReadAs, ...] = (
    *(
        exception
        for dialect in ("postgres", "sqlite")
        for exception in (
            ReadAs(dialect, "secret", {"type": "text"}, "the DDL writes a secret column as TEXT"),
            ReadAs(
                dialect,
                "email",
                {"type": "varchar", "length": 255},
                "the DDL writes an email column as VARCHAR(255)",
            ),
        )
    ),
    ReadAs(
        "sqlite", "bigint", {"type": "integer"}, "SQLite's DDL declares every integer type INTEGER"
    ),
    ReadAs(
        "sqlite",
        "smallint",
        {"type": "integer"},
        "SQLite's DDL declares every integer type INTEGER",
    ),
    ReadAs("sqlite", "double_precision", {"type": "real"}, "SQLite's DDL declares a double REAL"),
    ReadAs(
        "sqlite",
        "array",
        {"type": "text"},
        "an array is TEXT holding JSON on SQLite; its default is that JSON text",
        default=_json_text,
    ),
    *(
        ReadAs(
            "sqlite",
            f"{kind} key",
            {"type": "serial"},
            "an INTEGER PRIMARY KEY is SQLite's rowid, which the database numbers",
        )
        for kind in ("integer", "bigint", "smallint")
    ),
)


def _read_as(column: ColumnSpec, dialect: str) -> dict[str, Any]:
    """The changes that make ``column`` what ``dialect`` reads back (``READ_AS``)."""
    kind = f"{column.type} key" if column.primary_key else column.type
    found = [e for e in READ_AS if e.dialect == dialect and e.type == kind]
    assert len(found) <= 1, found
    if not found:
        return {}
    exception = found[0]
    changes: dict[str, Any] = {"length": None, "of": None, **exception.becomes}
    if exception.default is not None:
        if column.default is not None:
            changes["default"] = exception.default(column.default)
        elif not column.null and not column.required:
            # The type's zero default, which the build writes (``[]``).
            changes["default"] = exception.default([])
    return changes


def _code_only_stripped(specs: list[SchemaFile], order: list[str], dialect: str) -> SchemaFile:
    """The project files as one, without what only the generated code holds."""
    tables: dict[str, TableSpec] = {}
    for spec in specs:
        for name, table in spec.tables.items():
            columns: dict[str, ColumnSpec] = {}
            for key, column in table.columns.items():
                if column.type == "m2m":
                    continue
                # ``required`` reaches the database as a NOT NULL column
                # without a default; on a key, a foreign key or a nullable
                # column (none of which has a zero default) it is code only.
                keeps_required = not (
                    column.primary_key or column.null or column.type == "foreign_key"
                )
                changes: dict[str, Any] = {
                    "help_text": None,
                    "choices": None,
                    "required": column.required and keeps_required,
                    "renamed_from": None,
                }
                if column.choices is not None:
                    # The default is the member's value (without one, the
                    # first member's, as create_tables writes it).
                    members = spec.enums[column.choices]
                    if column.default is not None:
                        changes["default"] = members[str(column.default)]
                    elif not column.null and not column.required:
                        changes["default"] = next(iter(members.values()))
                if column.references is not None:
                    # One file: ``music.Band`` is ``Band``; ``Customer.email`` stays.
                    parts = column.references.split(".")
                    if parts[0] not in {t for s in specs for t in s.tables}:
                        parts = parts[1:]
                    changes["references"] = ".".join(parts)
                if column.primary_key or _zero(column):
                    changes["default"] = None
                changes.update(_read_as(column, dialect))
                if column.type == "char" and column.length == 1:
                    changes["length"] = None
                for action in ("on_delete", "on_update"):
                    if getattr(column, action) == "cascade":
                        changes[action] = None
                columns[key] = column.model_copy(update=changes)
            tablename = table.tablename or snake_case(name)

            def db_names(keys: list[str], table: TableSpec = table) -> list[str]:
                return [
                    table.columns[k].db_column_name or k if k in table.columns else k for k in keys
                ]

            indexes = sorted(
                table.indexes,
                key=lambda i: i.name or _naming.index_name(tablename, db_names(i.columns)),
            )
            unique = sorted(table.unique, key=lambda u: _naming.unique_name(tablename, db_names(u)))
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


#: Column types whose values a view column of a foreign key holds (the key's).
_KEY_TYPES = {"serial": "integer", "bigserial": "bigint"}


def _views_stripped(
    specs: list[SchemaFile], read: DbSchema, order: list[str], dialect: str
) -> dict[str, ViewSpec]:
    """The project files' views as the database keeps them (see the module doc)."""
    views: dict[str, ViewSpec] = {}
    tables = {name: table for spec in specs for name, table in spec.tables.items()}
    for spec in specs:
        for name, view in spec.views.items():
            found = read.view(view.viewname or snake_case(name))
            typed = {c.name for c in found.columns if c.type is not None}
            materialized = view.materialized and dialect == "postgres"
            columns: dict[str, ColumnSpec] = {}
            for key, column in view.columns.items():
                if (column.db_column_name or key) not in typed:
                    continue  # SQLite declares no type for it
                changes: dict[str, Any] = {"help_text": None, "null": True}
                if column.type == "foreign_key":
                    assert column.references is not None
                    target = tables[column.references.split(".")[-1]]
                    key_spec = next(
                        (c for c in target.columns.values() if c.primary_key),
                        ColumnSpec(type="serial"),
                    )
                    kind = _KEY_TYPES.get(key_spec.type, key_spec.type)
                    changes |= {"type": kind, "references": None, "length": key_spec.length}
                    changes["digits"] = key_spec.digits
                if not materialized:
                    changes |= {"primary_key": False, "unique": False, "index": False}
                if column.primary_key and materialized:
                    changes["null"] = False
                changes.update(_read_as(column.model_copy(update=changes), dialect))
                columns[key] = column.model_copy(update=changes)
            views[name] = view.model_copy(
                update={
                    "help_text": None,
                    "materialized": materialized,
                    "sql": found.sql,
                    "columns": columns,
                }
            )
    return {name: views[name] for name in order}


def _yaml(spec: SchemaFile) -> str:
    from generator.introspect import _scalar

    lines = ["tables:"]
    for name, table in spec.tables.items():
        lines.append(f"  {name}:")
        if table.tablename:
            lines.append(f"    tablename: {table.tablename}")
        if table.primary_key:
            lines.append(f"    primary_key: {_scalar(table.primary_key)}")
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
        if table.foreign_keys:
            lines.append("    foreign_keys:")
            for fk_name, fk in table.foreign_keys.items():
                lines.append(f"      {fk_name}: {_scalar(fk.model_dump(exclude_defaults=True))}")
        if table.checks:
            lines.append("    checks:")
            lines += [f"      {n}: {json.dumps(sql)}" for n, sql in table.checks.items()]
    if spec.views:
        lines.append("views:")
    for name, view in spec.views.items():
        lines.append(f"  {name}:")
        if view.viewname:
            lines.append(f"    viewname: {view.viewname}")
        if view.materialized:
            lines.append("    materialized: true")
        lines.append(f"    sql: {json.dumps(view.sql)}")
        lines.append("    columns:")
        for key, column in view.columns.items():
            lines.append(f"      {key}: {_scalar(column.model_dump(exclude_defaults=True))}")
    return "\n".join(lines) + "\n"


def _generated(path: Path) -> str:
    modules, errors = load_schemas([path])
    assert not errors, errors
    return render_files(modules, "out")[f"{path.stem}.py"]


def _classes_in_order(text: str, section: str = "tables") -> list[str]:
    """The classes of ``section`` (``tables`` or ``views``) of a file, in order."""
    found: list[str] = []
    current = ""
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            current = line.split(":")[0]
        elif line.startswith("  ") and not line.startswith("   ") and line.strip().endswith(":"):
            if current == section:
                found.append(line.strip().rstrip(":"))
    return found


def _kinds(files: list[Path]) -> set[str]:
    """The column types of ``files`` as ``READ_AS`` names them."""
    kinds = set()
    for file in files:
        loaded, errors = load_file(file)
        assert loaded is not None and not errors
        for table in loaded.spec.tables.values():
            for column in table.columns.values():
                kinds.add(f"{column.type} key" if column.primary_key else column.type)
    return kinds


def test_the_exceptions_are_met_and_documented() -> None:
    """Each exception is a type some round trip has (none is listed in vain,
    none untested), and docs/existing-databases.md lists each with its reason."""
    kinds = set().union(*(_kinds(files) for files in ROUND_TRIPS.values()))
    docs = (ROOT / "docs" / "existing-databases.md").read_text()
    for exception in READ_AS:
        assert exception.type in kinds, exception
        becomes = exception.becomes["type"]
        if "length" in exception.becomes:
            becomes += f"({exception.becomes['length']})"
        row = f"| {exception.dialect} | `{exception.type}` | `{becomes}` | {exception.why} |"
        assert row in docs, row
    pairs = [(e.dialect, e.type) for e in READ_AS]
    assert len(pairs) == len(set(pairs))


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
async def test_round_trip(
    db: Engine, tmp_path: Path, name: str, built: dict[str, list[ModuleType]]
) -> None:
    dialect = db.dialect.name
    files = ROUND_TRIPS[name]
    modules = built[name]
    tables = [t for m in modules for t in m.TABLES]
    views = [v for m in modules for v in m.VIEWS]
    await create_tables(*tables, *views).run(engine=db)
    original = state.of_tables([*tables, *views])
    read = await read_schema(db)
    assert len(read.views) == len(views)

    result = await introspect(db)
    # What SQLite declares no type for (a view's column of an expression);
    # PostgreSQL types them all.
    untyped = {(v.name, c.name) for v in read.views for c in v.columns if c.type is None}
    assert dialect == "sqlite" or not untyped
    assert sorted(result.left_out) == sorted(
        f"{view}: column {column!r}: the database declares no type for it (left out; add it"
        " with the type its values have)"
        for view, column in untyped
    )
    path = tmp_path / "introspected" / f"{Path(name).name}.yaml"
    path.parent.mkdir()
    path.write_text(result.text)
    rebuilt = schema_state([path])
    assert isinstance(rebuilt, state.Schema), rebuilt

    # 1. The file creates the database it was read from.
    compiler = compiler_for(dialect)
    lowered = compiler.lower(rebuilt)
    assert replace(lowered, views=()) == replace(read, views=())
    assert compare(lowered, read) == []
    assert replace(lowered, views=()) == replace(compiler.lower(original), views=())
    # Its views are the original's, less the columns SQLite declares no type for.
    assert lowered.views == tuple(
        replace(v, columns=tuple(c for c in v.columns if (v.name, c.name) not in untyped))
        for v in compiler.lower(original).views
    )

    # 2. Its state is the original's, up to what the database cannot tell apart
    # (the views' SQL and columns: compared in 1.).
    expected = _sql_defaults(_as_database_keeps(original, dialect), dialect)
    rebuilt_kept = _sql_defaults(_as_database_keeps(rebuilt, dialect), dialect)
    assert replace(rebuilt_kept, views=()) == replace(expected, views=())

    # 3. The generated code, up to what only the code holds and the types
    # the dialect cannot tell apart (``READ_AS``).
    specs = []
    for file in files:
        loaded, errors = load_file(file)
        assert loaded is not None and not errors
        specs.append(loaded.spec)
    stripped = tmp_path / "original" / f"{Path(name).name}.yaml"
    stripped.parent.mkdir()
    order = _classes_in_order(result.text)
    tables_only = _code_only_stripped(specs, order, dialect)
    view_order = _classes_in_order(result.text, "views")
    stripped_views = _views_stripped(specs, read, view_order, dialect)
    stripped.write_text(_yaml(tables_only.model_copy(update={"views": stripped_views})))
    assert _generated(path) == _generated(stripped)


# -- databases our DDL did not make ---------------------------------------------------

#: A hand-written PostgreSQL schema: odd names, types the language lacks, a
#: view, a trigger, check constraints, a composite key and a foreign key to it.
PG_SQL = """
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TYPE "Order State" AS ENUM ('New', 'in progress', 'title');
CREATE TYPE unused_kind AS ENUM ('a');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE SEQUENCE invoice_number_seq;
CREATE TABLE "Customer" (
    "CustomerId" serial PRIMARY KEY,
    "FirstName" varchar(40) NOT NULL,
    "Email" varchar(60) NOT NULL UNIQUE,
    "Phone Number" text,
    "class" text,
    "select" integer,
    created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    fulltext tsvector,
    current_mood mood,
    state "Order State" NOT NULL DEFAULT 'in progress',
    credit numeric(10, 2) NOT NULL DEFAULT 0 CHECK (credit >= 0)
);
CREATE TABLE invoice (
    invoice_id bigserial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES "Customer" ("CustomerId") ON DELETE RESTRICT,
    total numeric(10, 2) NOT NULL,
    billing_email varchar(60) REFERENCES "Customer" ("Email"),
    issued date NOT NULL DEFAULT CURRENT_DATE,
    tags text[] NOT NULL DEFAULT '{}',
    address inet,
    CONSTRAINT positive_total CHECK (total >= 0)
);
CREATE INDEX invoice_lower_email ON invoice (lower(billing_email));
CREATE INDEX invoice_issued_total ON invoice (issued, total);
CREATE TABLE invoice_line (
    invoice_id bigint NOT NULL REFERENCES invoice ON DELETE CASCADE,
    line_no integer NOT NULL,
    quantity integer NOT NULL DEFAULT 1,
    PRIMARY KEY (invoice_id, line_no)
);
CREATE TABLE "Order Details" (id serial PRIMARY KEY, note text);
CREATE TABLE audit_log (message text NOT NULL);
CREATE TABLE track (
    id serial PRIMARY KEY,
    name text NOT NULL DEFAULT 'untitled',
    invoice_id bigint,
    line_no integer,
    FOREIGN KEY (invoice_id, line_no) REFERENCES invoice_line
);
CREATE TABLE payment (
    id serial PRIMARY KEY,
    invoice_ref integer REFERENCES invoice,
    amount numeric(10, 2)
);
CREATE INDEX payment_amount_a ON payment (amount);
CREATE INDEX payment_amount_b ON payment (amount);
CREATE TABLE measurement (id integer, logdate date NOT NULL) PARTITION BY RANGE (logdate);
CREATE TABLE measurement_2024 PARTITION OF measurement
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE VIEW big_invoices AS SELECT * FROM invoice WHERE total > 100;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN NEW.created_at := CURRENT_TIMESTAMP; RETURN NEW; END $$;
CREATE TRIGGER customer_touch BEFORE UPDATE ON "Customer"
    FOR EACH ROW EXECUTE FUNCTION touch();
"""

#: What the PostgreSQL file must say it leaves out (each a comment).
PG_LEFT_OUT = [
    "measurement: is a partitioned table; not read",
    "measurement_2024: is a partition; not read",
    "trigger customer_touch",
    "enum type unused_kind",
    "domain positive_int",
    "sequence invoice_number_seq",
    "function touch",
    "column 'fulltext' of type tsvector",
    "column 'address' of type inet",
    "table 'audit_log' has no primary key",
    "index 'invoice_lower_email' is over expressions",
    "column 'credit': DEFAULT 0 (left out",
    "column 'invoice_ref': a foreign key of type INTEGER to invoice.invoice_id, whose values "
    "are BIGINT",
    "payment: index {columns: [amount], name: payment_amount_b}: the same index as indexes[0]",
]

SQLITE_SQL = """
CREATE TABLE "Artist" (
    "ArtistId" INTEGER PRIMARY KEY,
    "Name" VARCHAR(120) NOT NULL,
    "Born" DATETIME,
    "Genre Name" TEXT,
    "class" TEXT,
    CONSTRAINT "artist_name_set" CHECK (length("Name") > 0)
);
CREATE TABLE "Album" (
    "AlbumId" INTEGER PRIMARY KEY AUTOINCREMENT,
    "Title" VARCHAR(160) NOT NULL DEFAULT 'untitled' UNIQUE,
    "ArtistId" INTEGER NOT NULL REFERENCES "Artist" ("ArtistId") ON DELETE NO ACTION,
    price NUMERIC(10, 2) NOT NULL DEFAULT '0.99' CHECK (price >= 0),
    rating INT
);
CREATE INDEX album_title_lower ON "Album" (lower("Title"));
CREATE INDEX "Album_ArtistId" ON "Album" ("ArtistId");
CREATE TABLE "PlaylistTrack" (
    "PlaylistId" INTEGER NOT NULL,
    "TrackId" INTEGER NOT NULL,
    PRIMARY KEY ("PlaylistId", "TrackId")
);
CREATE TABLE "Track" (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    album_title TEXT REFERENCES "Album" ("Title"),
    album_name VARCHAR(160) REFERENCES "Album" ("Title") ON DELETE SET NULL,
    artist_name VARCHAR(120) REFERENCES "Artist" ("Name"),
    "select" INTEGER,
    playlist_id INTEGER,
    track_id INTEGER,
    FOREIGN KEY (playlist_id, track_id) REFERENCES "PlaylistTrack"
);
CREATE INDEX track_name_a ON "Track" (name);
CREATE INDEX track_name_b ON "Track" (name);
CREATE TABLE "table" (id INTEGER PRIMARY KEY, uuid TEXT, "int" INTEGER);
CREATE TABLE invoice_line (id INTEGER PRIMARY KEY, note TEXT);
CREATE TABLE "InvoiceLine" (id INTEGER PRIMARY KEY, amount REAL);
CREATE TABLE log (message TEXT);
CREATE TABLE "Order Details" (id INTEGER PRIMARY KEY, note TEXT);
CREATE VIEW artist_albums AS
    SELECT "Artist"."Name", "Album"."Title" FROM "Artist" JOIN "Album" USING ("ArtistId");
CREATE TRIGGER album_touch AFTER INSERT ON "Album" BEGIN
    UPDATE "Album" SET "Title" = "Title" WHERE "AlbumId" = NEW."AlbumId";
END;
"""

SQLITE_LEFT_OUT = [
    "trigger album_touch",
    "column 'Born' of type DATETIME",
    "column 'rating' of type INT",
    "the key is AUTOINCREMENT",
    "unnamed CHECK (price >= 0)",
    "column 'album_title': a foreign key of type TEXT to Album.Title, whose values are "
    "VARCHAR(160)",
    "column 'artist_name': a foreign key to Artist.Name, which is neither its key nor unique",
    "table 'log' has no primary key",
    "index 'album_title_lower' is over expressions",
    "Track: index {columns: [name], name: track_name_b}: the same index as indexes[0]",
]

#: What each file must say, for the written tables (class -> lines).
PG_EXPECTED = [
    "  OrderDetails:\n    tablename: Order Details\n",
    "enums:\n  Mood: {native: true, values: {happy: happy, sad: sad}}\n"
    "  OrderState: {native: true, name: Order State, values: {new: New, in_progress: in progress, "
    "title_: title}}\n",
    "      current_mood: {type: enum, choices: Mood, null: true}\n",
    "      state: {type: enum, choices: OrderState, default: in_progress}\n",
    "  Customer:\n    tablename: Customer\n",
    "      customer_id: {type: serial, primary_key: true, db_column_name: CustomerId}\n",
    "      first_name: {type: varchar, length: 40, required: true, db_column_name: FirstName}\n",
    "      email: {type: varchar, length: 60, required: true, db_column_name: Email, unique: true}\n",
    "      class_: {type: text, null: true, db_column_name: class}\n",
    "      select_: {type: integer, null: true, db_column_name: select}\n",
    "      created_at: {type: timestamptz}\n",
    "      invoice_id: {type: bigserial, primary_key: true}\n",
    "      customer_id: {type: foreign_key, references: Customer, on_delete: restrict, "
    "on_update: no_action}\n",
    "      billing_email: {type: foreign_key, references: Customer.email, on_delete: no_action, "
    "on_update: no_action, null: true}\n",
    "      - {columns: [issued, total]}\n",
    "      tags: {type: array, of: {type: text}}\n",
    "      name: {type: text, default: untitled}\n",
    "      invoice_ref: {type: integer, null: true}\n",
    "      - {columns: [amount], name: payment_amount_a}\n",
    # Checks keep their names; the casts PostgreSQL adds to literals are left out.
    '    checks:\n      Customer_credit_check: "credit >= 0"\n',
    '    checks:\n      positive_total: "total >= 0"\n',
    # A composite key, and a foreign key over its two columns.
    "  InvoiceLine:\n    primary_key: [invoice_id, line_no]\n    columns:\n"
    "      invoice_id: {type: foreign_key, references: Invoice, on_update: no_action}\n"
    "      line_no: {type: integer}\n",
    "      invoice_id_line_no: {columns: [invoice_id, line_no], references: InvoiceLine, "
    "on_delete: no_action, on_update: no_action}\n",
    # A view: its SQL as PostgreSQL deparses it, its columns typed by the catalog.
    "views:\n  BigInvoices:\n    sql: |-\n      SELECT invoice.invoice_id,\n",
    "        WHERE (invoice.total > (100)::numeric)\n    columns:\n"
    "      invoice_id: {type: bigint, null: true}\n",
    "      tags: {type: array, of: {type: text}, null: true}\n"
    "      # not expressible: column 'address' of type inet (left out)\n",
]
SQLITE_EXPECTED = [
    "      genre_name: {type: text, null: true, db_column_name: Genre Name}\n",
    "  OrderDetails:\n    tablename: Order Details\n",
    "  Artist:\n    tablename: Artist\n",
    "      artist_id: {type: serial, primary_key: true, db_column_name: ArtistId}\n",
    "      title: {type: varchar, length: 160, default: untitled, db_column_name: Title, "
    "unique: true}\n",
    "      artist_id: {type: foreign_key, references: Artist, on_delete: no_action, "
    "on_update: no_action, db_column_name: ArtistId, index: true}\n",
    '      price: {type: numeric, digits: [10, 2], default: "0.99"}\n',
    "      album_name: {type: foreign_key, references: Album.title, on_delete: set_null, "
    "on_update: no_action, null: true}\n",
    "      select_: {type: integer, null: true, db_column_name: select}\n",
    '    checks:\n      artist_name_set: "length(\\"Name\\") > 0"\n',
    "  InvoiceLine:\n    tablename: InvoiceLine\n    columns:\n      amount:",
    "  InvoiceLine_:\n    tablename: invoice_line\n    columns:\n      note:",
    "  Table_:\n    tablename: table\n    columns:\n"
    "      uuid_: {type: text, null: true, db_column_name: uuid}\n"
    "      int_: {type: integer, null: true, db_column_name: int}\n",
    "  PlaylistTrack:\n    tablename: PlaylistTrack\n    primary_key: [playlist_id, track_id]\n"
    "    columns:\n      playlist_id: {type: integer, db_column_name: PlaylistId}\n"
    "      track_id: {type: integer, db_column_name: TrackId}\n",
    "    foreign_keys:\n      playlist_id_track_id: {columns: [playlist_id, track_id], "
    "references: PlaylistTrack, on_delete: no_action, on_update: no_action}\n",
    # A view: its SQL as SQLite keeps it, its columns typed as the tables' are.
    'views:\n  ArtistAlbums:\n    sql: "SELECT \\"Artist\\".\\"Name\\", \\"Album\\".\\"Title\\" FROM'
    ' \\"Artist\\" JOIN \\"Album\\" USING (\\"ArtistId\\")"\n    columns:\n'
    "      name: {type: varchar, length: 120, null: true, db_column_name: Name}\n",
]


async def _run_script(db: Engine, script: str) -> None:
    if isinstance(db, PostgresEngine):
        await db._execute_built(script, ())
        return
    for statement in _statements(script):
        await db._execute_built(statement, ())


def _statements(script: str) -> list[str]:
    """SQLite statements of ``script`` (a trigger's body keeps its semicolons)."""
    import sqlite3

    found, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            found.append(current.strip())
            current = ""
    return found


async def test_hand_written_database(db: Engine, tmp_path: Path) -> None:
    postgres = db.dialect.name == "postgres"
    await _run_script(db, PG_SQL if postgres else SQLITE_SQL)
    result = await introspect(db)
    text = result.text
    comments = [
        line for line in text.splitlines() if line.lstrip().startswith("# not expressible:")
    ]
    for thing in PG_LEFT_OUT if postgres else SQLITE_LEFT_OUT:
        assert any(thing in line for line in comments), (thing, text)
        assert any(thing in line for line in result.left_out), thing
    for expected in PG_EXPECTED if postgres else SQLITE_EXPECTED:
        assert expected in text, (expected, text)
    assert len(result.left_out) == len(comments)

    # What the file holds, it holds exactly: every column it writes creates
    # what the database has, unless a comment names the column.
    path = tmp_path / "legacy.yaml"
    path.write_text(text)
    rebuilt = schema_state([path])
    assert isinstance(rebuilt, state.Schema), rebuilt
    read = await read_schema(db)
    compiler = compiler_for(db.dialect.name)
    for table in compiler.lower(rebuilt):
        database = read.table(table.name)
        noted = {c.name for c in database.columns if f"column {c.name!r}" in text}
        have = {c.name: c for c in database.columns}
        for column in table.columns:
            if column.name not in noted:
                assert column == have[column.name], (table.name, column)
        assert {c.name for c in database.columns} - {c.name for c in table.columns} <= noted
        # The checks it writes are the database's, as the database reads them.
        assert set(table.checks) <= set(database.checks), table.name
    assert sum(len(t.checks) for t in compiler.lower(rebuilt)) == (2 if postgres else 1)
    # Its view gives the columns it writes, of the types it writes.
    assert len(rebuilt.views) == 1
    view_differences = [d for d in compare(compiler.lower(rebuilt), read) if "view" in d.kind]
    assert view_differences == []

    # It builds, and the generated module passes mypy --strict.
    out = tmp_path / "legacy_pkg"
    build = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--schema", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert build.returncode == 0, build.stderr
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr


#: A foreign key over two PascalCase columns without a name: SQLite keeps none,
#: and PostgreSQL names it after its columns, as the reader does for SQLite.
UNNAMED_KEY_OVER_TWO_COLUMNS = """
CREATE TABLE "InvoiceLine" (
    "InvoiceId" INTEGER NOT NULL,
    "LineNo" INTEGER NOT NULL,
    PRIMARY KEY ("InvoiceId", "LineNo")
);
CREATE TABLE "Refund" (
    "RefundId" INTEGER PRIMARY KEY,
    "InvoiceId" INTEGER NOT NULL,
    "LineNo" INTEGER NOT NULL,
    FOREIGN KEY ("InvoiceId", "LineNo") REFERENCES "InvoiceLine" ("InvoiceId", "LineNo")
);
"""


async def test_unnamed_foreign_key_over_pascal_case_columns(db: Engine, tmp_path: Path) -> None:
    """Its attribute is snake_case like every other (``invoice_id_line_no``, not
    ``InvoiceId_LineNo``), and ``name:`` keeps the constraint's name, which the
    attribute would derive otherwise: the file creates the database exactly."""
    await _run_script(db, UNNAMED_KEY_OVER_TWO_COLUMNS)
    result = await introspect(db)
    assert (
        "    foreign_keys:\n      invoice_id_line_no: {columns: [invoice_id, line_no], "
        "references: InvoiceLine, on_delete: no_action, on_update: no_action, "
        "name: Refund_InvoiceId_LineNo_fkey}\n"
    ) in result.text, result.text
    assert result.left_out == ()
    path = tmp_path / "keys.yaml"
    path.write_text(result.text)
    rebuilt = schema_state([path])
    assert isinstance(rebuilt, state.Schema), rebuilt
    assert await drift(db, rebuilt) == []


# -- the command line, and adopting the database ----------------------------------------

#: A database that the language holds whole: adoptable as it is.
ADOPTABLE = {
    "sqlite": """
CREATE TABLE "Customer" (
    "CustomerId" INTEGER PRIMARY KEY,
    "FullName" VARCHAR(80) NOT NULL DEFAULT '',
    email TEXT UNIQUE
);
CREATE TABLE invoice_line (
    id INTEGER PRIMARY KEY,
    "CustomerId" INTEGER REFERENCES "Customer" ("CustomerId") ON DELETE SET NULL ON UPDATE CASCADE,
    amount NUMERIC(8, 2)
);
CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT);
""",
    "postgres": """
CREATE TABLE "Customer" (
    "CustomerId" serial PRIMARY KEY,
    "FullName" varchar(80) NOT NULL DEFAULT '',
    email text UNIQUE
);
CREATE TABLE invoice_line (
    id serial PRIMARY KEY,
    "CustomerId" integer REFERENCES "Customer" ("CustomerId") ON DELETE SET NULL ON UPDATE CASCADE,
    amount numeric(8, 2)
);
CREATE TABLE note (id serial PRIMARY KEY, body text);
""",
}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _url(db: Engine, tmp_path: Path) -> str:
    if isinstance(db, PostgresEngine):
        dsn = str(db.config["dsn"])
        # A password the header must not show (trust authentication ignores it).
        return dsn.replace("postgres@", "postgres:hunter2@", 1)
    return f"sqlite:///{tmp_path / 'introspect.sqlite'}"


async def test_command_and_adoption(db: Engine, tmp_path: Path) -> None:
    """introspect -> build -> migrations new --initial --fake -> check -> a first
    migration, as docs/existing-databases.md walks through it."""
    await _run_script(db, ADOPTABLE[db.dialect.name])
    url = _url(db, tmp_path)
    await db.close()
    schema_file = tmp_path / "schema" / "legacy.yaml"
    schema_file.parent.mkdir()

    only = _cli("introspect", "--database", url, "--tables", "note", cwd=tmp_path)
    assert only.returncode == 0, only.stderr
    assert "  Note:\n" in only.stdout and "Customer" not in only.stdout
    assert only.stderr == ""

    excluded = _cli("introspect", "--database", url, "--exclude", "note", cwd=tmp_path)
    assert excluded.returncode == 0, excluded.stderr
    assert "Note:" not in excluded.stdout and "  Customer:\n" in excluded.stdout

    # Adopting needs every table: drift is checked over the whole database.
    done = _cli("introspect", "--database", url, "--out", str(schema_file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = schema_file.read_text()
    assert "hunter2" not in text and "  Note:\n" in text
    assert "  InvoiceLine:\n    columns:\n" in text
    assert (
        "      customer_id: {type: foreign_key, references: Customer, on_delete: set_null, "
        "null: true, db_column_name: CustomerId}\n" in text
    )
    assert "# not expressible" not in text

    folder = tmp_path / "migrations"
    common = ("--folder", str(folder), "--database", url)
    adopt = _cli(
        "migrations", "new", "--initial", "--fake", "--schema", str(schema_file), *common,
        cwd=tmp_path,
    )  # fmt: skip
    assert adopt.returncode == 0, adopt.stdout + adopt.stderr
    check = _cli("migrations", "check", "--schema", str(schema_file), *common, cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr

    # The first migration of the adopted database: a new column.
    schema_file.write_text(
        text.replace(
            "      amount: {type: numeric, digits: [8, 2], null: true}\n",
            "      amount: {type: numeric, digits: [8, 2], null: true}\n"
            "      paid: {type: boolean, default: false}\n",
        )
    )
    new = _cli(
        "migrations", "new", "--auto", "--name", "paid", "--schema", str(schema_file), *common,
        cwd=tmp_path,
    )  # fmt: skip
    assert new.returncode == 0, new.stdout + new.stderr
    forwards = _cli("migrations", "forwards", *common, cwd=tmp_path)
    assert forwards.returncode == 0, forwards.stdout + forwards.stderr
    check = _cli("migrations", "check", "--schema", str(schema_file), *common, cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    again = _cli("introspect", "--database", url, cwd=tmp_path)
    assert "      paid: {type: boolean}\n" in again.stdout


#: NOT NULL columns without a default, as most hand-made databases have them.
WITHOUT_DEFAULTS = {
    "sqlite": """
CREATE TABLE "Customer" (
    "CustomerId" INTEGER PRIMARY KEY,
    "FullName" VARCHAR(80) NOT NULL,
    joined DATE NOT NULL,
    active BOOLEAN NOT NULL
);
CREATE TABLE invoice (
    id INTEGER PRIMARY KEY,
    "CustomerId" INTEGER NOT NULL REFERENCES "Customer" ("CustomerId"),
    issued TIMESTAMP NOT NULL,
    total NUMERIC(10, 2) NOT NULL,
    lines INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
""",
    "postgres": """
CREATE TABLE "Customer" (
    "CustomerId" serial PRIMARY KEY,
    "FullName" varchar(80) NOT NULL,
    joined date NOT NULL,
    active boolean NOT NULL,
    token uuid NOT NULL,
    profile jsonb NOT NULL
);
CREATE TABLE invoice (
    id serial PRIMARY KEY,
    "CustomerId" integer NOT NULL REFERENCES "Customer" ("CustomerId"),
    issued timestamp NOT NULL,
    total numeric(10, 2) NOT NULL,
    lines integer NOT NULL,
    note text NOT NULL DEFAULT ''
);
""",
}


async def test_adopting_columns_without_defaults(db: Engine, tmp_path: Path) -> None:
    """A NOT NULL column without a default is ``required: true``, which the
    build gives no default either: the database adopts without drift, and a
    later migration takes it from there."""
    await _run_script(db, WITHOUT_DEFAULTS[db.dialect.name])
    url = _url(db, tmp_path)
    await db.close()
    schema_file = tmp_path / "schema" / "legacy.yaml"
    schema_file.parent.mkdir()
    done = _cli("introspect", "--database", url, "--out", str(schema_file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    text = schema_file.read_text()
    assert "# not expressible" not in text
    required = [
        "full_name: {type: varchar, length: 80, required: true, db_column_name: FullName}",
        "joined: {type: date, required: true}",
        "active: {type: boolean, required: true}",
        "issued: {type: timestamp, required: true}",
        "total: {type: numeric, digits: [10, 2], required: true}",
        "lines: {type: integer, required: true}",
    ]
    if db.dialect.name == "postgres":
        required += [
            "token: {type: uuid, required: true}",
            "profile: {type: jsonb, required: true}",
        ]
    for line in required:
        assert f"      {line}\n" in text, (line, text)
    assert "      note: {type: text}\n" in text  # the zero default, as the build writes it

    build = _cli(
        "build", "--schema", str(schema_file), "--out", str(tmp_path / "out"), cwd=tmp_path
    )
    assert build.returncode == 0, build.stderr
    built = (tmp_path / "out" / "legacy.py").read_text()
    assert "joined: Date[datetime.date] = Date(required=True)" in built

    folder = tmp_path / "migrations"
    common = ("--schema", str(schema_file), "--folder", str(folder), "--database", url)
    adopt = _cli("migrations", "new", "--initial", "--fake", *common, cwd=tmp_path)
    assert adopt.returncode == 0, adopt.stdout + adopt.stderr
    check = _cli("migrations", "check", *common, cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr

    # The first migration: ``lines`` is no longer required, so it gets its
    # zero default; the database has it afterwards.
    schema_file.write_text(
        text.replace("lines: {type: integer, required: true}", "lines: {type: integer}")
    )
    files = ("--schema", str(schema_file), "--folder", str(folder))
    new = _cli("migrations", "new", "--auto", "--name", "lines_zero", *files, cwd=tmp_path)
    assert new.returncode == 0, new.stdout + new.stderr
    written = (folder / "0002_lines_zero.py").read_text()
    assert 'AlterColumn("invoice", "lines", default=0)' in written
    forwards = _cli(
        "migrations", "forwards", "--folder", str(folder), "--database", url, cwd=tmp_path
    )
    assert forwards.returncode == 0, forwards.stdout + forwards.stderr
    check = _cli("migrations", "check", *common, cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    again = _cli("introspect", "--database", url, cwd=tmp_path)
    assert "      lines: {type: integer}\n" in again.stdout
    assert "      total: {type: numeric, digits: [10, 2], required: true}\n" in again.stdout


def test_unknown_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    result = _cli("introspect", "--database", url, "--tables", "nope", cwd=tmp_path)
    assert result.returncode == 1
    assert "the database has no table nope" in result.stderr
    assert result.stdout == ""


def test_bad_url(tmp_path: Path) -> None:
    result = _cli("introspect", "--database", "mysql://x/y", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown scheme 'mysql'" in result.stderr


async def test_reader_tables_of_the_suite(db: Engine, tmp_path: Path) -> None:
    """The reader's own test tables (every type with defaults at their limits,
    every foreign key action, quoted names): every column the file writes
    creates what the database has, and only what the language lacks is noted."""
    import test_schema_read

    await create_tables(*test_schema_read.HAND_MADE).run(engine=db)
    result = await introspect(db)
    zero = "(left out; the column gets the type's zero default)"
    # What the schema language cannot say yet, by column, with why.
    expected = {
        "v_bytea": zero,  # the language has no bytea default
        "v_bytea_quote": zero,
        # The generated code writes a JSON default with ASCII escapes, and a
        # json column keeps its text as written.
        "v_json": zero,
        "v_interval_long": zero,  # a default in seconds, exact to the microsecond
        "target_default": "on_delete: set_default needs a default on the column",
        "v_double_inf": "is not valid for double_precision; expected a number",
        "v_real_inf": "is not valid for real; expected a number",
        "v_real_ninf": "is not valid for real; expected a number",
    }
    if not db.dialect.typed_storage:
        # SQLite keeps a jsonb default's text as written (PostgreSQL's own
        # form is what the language writes), and declares a double REAL.
        expected |= {"v_jsonb_order": zero, "v_jsonb_text": zero}
        expected["v_double_inf"] = "is not valid for real; expected a number"
    noted = {}
    for line in result.left_out:
        column = line.split("column '", 1)[1].split("'", 1)[0]
        noted[column] = line
    assert sorted(noted) == sorted(expected)
    for column, why in expected.items():
        assert why in noted[column], noted[column]
    # A quoted name is a name like any other: the table is written.
    assert 'tablename: "Odd \\"Name\\""' in result.text, result.text
    path = tmp_path / "read.yaml"
    path.write_text(result.text)
    rebuilt = schema_state([path])
    assert isinstance(rebuilt, state.Schema), rebuilt
    read = await read_schema(db)
    for table in compiler_for(db.dialect.name).lower(rebuilt):
        database = read.table(table.name)
        if table.name != "read_everything":
            assert table == database
            continue
        kept = [c for c in database.columns if c.name not in expected]
        assert [c for c in table.columns if c.name not in expected] == kept
        assert (table.indexes, table.unique) == (database.indexes, database.unique)
