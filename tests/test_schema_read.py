"""The schema reader against real databases, on both engines.

The oracle: after ``create_tables``, what ``read_schema`` reads from the
database equals what the tables' DDL says it created (the lowered state:
SQL types and ``DEFAULT`` text in our DDL's spelling). Every project schema
module, a table with every type and default the DDL writes, and tables
holding what the model cannot (read without failing, with notes).
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import json
import math
import struct
import time
import types
import uuid
from collections.abc import Iterable
from typing import Any

import pytest

import generated.features
import generated.inventory
import generated.keys
import generated.music
import generated.shop
from runtime import (
    JSON,
    JSONB,
    UUID,
    Array,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    Char,
    Date,
    DoublePrecision,
    ForeignKey,
    Index,
    Integer,
    Interval,
    Numeric,
    Real,
    SmallInt,
    Table,
    Text,
    Time,
    Timestamp,
    Timestamptz,
    Varchar,
    create_tables,
)
from runtime._columns import (
    UUID4,
    DateNow,
    TimeNow,
    TimestampNow,
    TimestamptzNow,
    jsonb_text,
    seconds_text,
)
from runtime._columns import ForeignKey as _ForeignKey
from runtime._dialect import Dialect
from runtime._engine import Engine, PostgresEngine
from runtime.schema import state
from runtime.schema.compile import compiler_for
from runtime.schema.database import DbForeignKey, DbIndex, DbSchema, DbTable, DbUnique
from runtime.schema.read import (
    HISTORY_TABLE,
    Note,
    TableStateError,
    read_schema,
    read_schema_notes,
    read_table_state,
)
from runtime.schema.read import postgres as pg_reader
from runtime.schema.read import sqlite as sqlite_reader

MODULES = [
    generated.music,
    generated.shop,
    generated.features,
    generated.inventory,
    generated.keys,
]


def tables_of(module: types.ModuleType) -> list[type[Table[Any]]]:
    """The table classes a generated module defines, in the module's order."""
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Table)
        and value is not Table
        and value.__module__ == module.__name__
    ]
    assert found, f"{module.__name__} defines no tables"
    return found


def with_targets(tables: Iterable[type[Table[Any]]]) -> list[type[Table[Any]]]:
    """``tables`` and the tables their foreign keys point at (in other modules
    too), each after its targets."""
    ordered: list[type[Table[Any]]] = []
    visiting: set[type[Table[Any]]] = set()

    def visit(table: type[Table[Any]]) -> None:
        if table in ordered or table in visiting:
            return
        visiting.add(table)
        for column in table._meta.columns:
            if isinstance(column, _ForeignKey):
                visit(column.target())
        ordered.append(table)

    for table in tables:
        visit(table)
    return ordered


def expected(tables: Iterable[type[Table[Any]]], dialect: Dialect) -> DbSchema:
    """What ``create_tables(*tables)`` makes on ``dialect``: the tables' state,
    lowered by the dialect's DDL compiler."""
    return compiler_for(dialect).lower(state.of_tables(tables))


# -- the oracle over the project's schemas -----------------------------------------------


def describe(read: DbSchema, want: DbSchema) -> str:
    """The first differences, table by table, for a failing comparison."""
    lines = []
    names = sorted({t.name for t in read} | {t.name for t in want})
    for name in names:
        got = next((t for t in read if t.name == name), None)
        exp = next((t for t in want if t.name == name), None)
        if got != exp:
            if got is None or exp is None:
                lines.append(f"{name}: read {got!r}, expected {exp!r}")
                continue
            for a, b in itertools.zip_longest(got.columns, exp.columns):
                if a != b:
                    lines.append(f"{name}: read {a!r}\n{' ' * len(name)}  expected {b!r}")
            if got.indexes != exp.indexes:
                lines.append(f"{name}: indexes {got.indexes!r} != {exp.indexes!r}")
            if got.unique != exp.unique:
                lines.append(f"{name}: unique {got.unique!r} != {exp.unique!r}")
    return "\n".join(lines)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
async def test_schema_module_reads_back_as_created(db: Engine, module: types.ModuleType) -> None:
    assert set(tables_of(module)) == set(module.TABLES)
    tables = with_targets(tables_of(module))
    await create_tables(*tables).run(engine=db)
    reading = await read_schema_notes(db)
    want = expected(tables, db.dialect)
    assert reading.schema == want, describe(reading.schema, want)
    assert reading.notes == ()


# -- every type and default the DDL writes -----------------------------------------------


class Target(Table[dict[str, Any]], tablename="read_target"):
    code = Varchar(length=8, unique=True)


class Big(Table[dict[str, Any]], tablename="read_big"):
    id = BigSerial(primary_key=True)


MOMENT = datetime.datetime(2024, 1, 31, 12, 0, 0, 250000)
KOLKATA = datetime.timezone(datetime.timedelta(hours=5, minutes=30))


class Everything(
    Table[dict[str, Any]],
    tablename="read_everything",
    indexes=(
        Index("v_smallint", "v_bigint"),
        Index("v_varchar", unique=True, name="read_everything_named"),
    ),
    unique=(("v_char", "v_integer"),),
):
    v_varchar = Varchar(length=30, default='it\'s "quoted" \\ back')
    v_varchar_empty = Varchar(length=5)
    v_char = Char(length=2, default="ab")
    v_text = Text(default="line\nbreak", index=True)
    v_text_null = Text(null=True)
    v_text_null_default = Text(null=True, default="x")
    v_integer = Integer(default=-1)
    v_integer_big = Integer(default=2147483647, unique=True)
    v_bigint = BigInt(default=-9223372036854775808)
    v_smallint = SmallInt(default=-32768)
    v_real = Real(default=-0.5)
    v_real_tiny = Real(default=1e-05)
    v_double = DoublePrecision(default=1e30)
    v_double_neg = DoublePrecision(default=-123.456)
    v_numeric = Numeric(digits=(5, 2), default=decimal.Decimal("-1.5"))
    v_numeric_free = Numeric(default=decimal.Decimal("12.3400"))
    v_boolean = Boolean(default=True)
    v_boolean_false = Boolean(default=False)
    v_date = Date(default=datetime.date(1999, 12, 31))
    v_date_now = Date(default=DateNow())
    v_time = Time(default=datetime.time(7, 30, 0, 500000))
    v_time_now = Time(default=TimeNow())
    v_timestamp = Timestamp(default=MOMENT)
    v_timestamp_now = Timestamp(default=TimestampNow())
    v_timestamptz = Timestamptz(default=MOMENT.replace(tzinfo=datetime.UTC))
    v_timestamptz_now = Timestamptz(default=TimestamptzNow())
    v_interval = Interval(default=datetime.timedelta(days=1, seconds=3661, microseconds=5))
    v_interval_neg = Interval(default=datetime.timedelta(seconds=-1.5))
    v_interval_zero = Interval()
    v_uuid = UUID(default=uuid.UUID("12345678-1234-5678-1234-567812345678"))
    v_uuid4 = UUID(default=UUID4())
    v_json = JSON(default={"b": [1, 2.5, None], "a": "é"})
    v_json_list = JSON(default=[1, "a"])
    v_jsonb = JSONB(default={"a": 1, "bb": [True, False]})
    v_bytea = Bytea(default=b"\x00\x01\xff")
    v_ints = Array(Integer(), default=[-1, 0, 2])
    v_ints_empty = Array(Integer())
    v_texts = Array(Text(), default=["a", "it's", ""])
    v_varchars = Array(Varchar(length=4), default=["ab"])
    v_bigints = Array(BigInt(), default=[9223372036854775807])
    v_reals = Array(Real(), default=[0.5, -1.0])
    v_numerics = Array(Numeric(digits=(6, 3)), default=[decimal.Decimal("1.500")])
    v_booleans = Array(Boolean(), default=[True, False])
    v_dates = Array(Date(), default=[datetime.date(2000, 1, 1)])
    v_timestamps = Array(Timestamp(), default=[MOMENT])
    v_timestamptzs = Array(Timestamptz(), default=[MOMENT.replace(tzinfo=datetime.UTC)])
    v_intervals = Array(Interval(), default=[datetime.timedelta(seconds=90)])
    v_uuids = Array(UUID(), default=[uuid.UUID("12345678-1234-5678-1234-567812345678")])
    v_array_null = Array(Integer(), null=True)
    # Defaults the database keeps in another form than a plain rendering
    # of the value would write: the DDL writes that form.
    v_interval_micro = Interval(default=datetime.timedelta(microseconds=1))
    v_interval_micro_neg = Interval(default=datetime.timedelta(microseconds=-7))
    v_interval_long = Interval(default=datetime.timedelta(days=99999, microseconds=1))
    v_intervals_micro = Array(Interval(), default=[datetime.timedelta(microseconds=3)])
    v_real_inf = Real(default=float("inf"))
    v_real_ninf = Real(default=float("-inf"))
    v_double_inf = DoublePrecision(default=float("inf"))
    v_real_negzero = Real(default=-0.0)
    v_double_negzero = DoublePrecision(default=-0.0)
    v_bytea_quote = Bytea(default=b"'\\\x00")
    v_bytea_empty = Bytea(default=b"")
    v_timestamptz_offset = Timestamptz(default=MOMENT.replace(tzinfo=KOLKATA))
    v_timestamptzs_offset = Array(Timestamptz(), default=[MOMENT.replace(tzinfo=KOLKATA)])
    v_jsonb_order = JSONB(default={"bb": 1, "a": {"zz": [{"y": 1, "x": 2}], "é": 0, "b": 1}})
    v_jsonb_text = JSONB(default='{"b" : 1e20,"a":[1.50 , -0, 1E-7], "a": "last"}')
    v_numeric_exponent = Numeric(default=decimal.Decimal("1E+3"))
    v_numeric_small = Numeric(default=decimal.Decimal("1E-7"))
    v_numeric_negzero = Numeric(default=decimal.Decimal("-0.00"))
    v_numerics_exponent = Array(Numeric(), default=[decimal.Decimal("2E+2")])
    target_cascade = ForeignKey(lambda: Target)
    target_restrict = ForeignKey(lambda: Target, on_delete="restrict", on_update="no_action")
    target_null = ForeignKey(lambda: Target, null=True, on_delete="set_null", on_update="restrict")
    target_default = ForeignKey(
        lambda: Target, null=True, on_delete="set_default", on_update="set_default"
    )
    big = ForeignKey(lambda: Big, null=True, index=True)


class Odd(
    Table[dict[str, Any]],
    tablename='Odd "Name"',
    unique=(("weird", "plain"),),
    indexes=(Index("plain", "weird"),),
):
    """Names that need quoting everywhere, and a serial key whose sequence does."""

    weird = Varchar(length=5, default="q", db_column_name='Wei\'rd "Col"', unique=True, index=True)
    plain = Integer(default=0)
    parent = ForeignKey(lambda: Odd, null=True, on_delete="set_null")


class PgOnly(Table[dict[str, Any]], tablename="read_pg_only"):
    """Defaults only PostgreSQL can hold: SQLite has no NaN, and an array
    there is JSON text, which holds no infinity and no bytes."""

    v_real_nan = Real(default=float("nan"))
    v_doubles = Array(DoublePrecision(), default=[1.5, float("inf"), float("-inf"), -0.0])
    v_reals_nan = Array(Real(), default=[float("nan")])
    v_byteas = Array(Bytea(), default=[b"\x01", b"", b"\xff\x00", b"'"])
    v_jsonbs = Array(JSONB(), default=[{"b": 1, "a": 2}])


HAND_MADE = [Target, Big, Everything, Odd]
PG_MADE = [*HAND_MADE, PgOnly]


async def test_every_type_and_default_reads_back(db: Engine) -> None:
    made = PG_MADE if db.dialect.name == "postgres" else HAND_MADE
    await create_tables(*made).run(engine=db)
    reading = await read_schema_notes(db)
    want = expected(made, db.dialect)
    assert reading.schema == want, describe(reading.schema, want)
    assert reading.notes == ()
    # The reader turned the database's spelling into ours (not a vacuous match).
    everything = reading.schema.table("read_everything")
    by_name = {c.name: c for c in everything.columns}
    if db.dialect.name == "postgres":
        assert by_name["id"].type == "SERIAL"
        assert reading.schema.table("read_big").columns[0].type == "BIGSERIAL"
        assert by_name["v_varchar"].default == "'it''s \"quoted\" \\ back'"
        assert by_name["v_integer"].default == "-1"
        assert by_name["v_ints"].default == "ARRAY[-1, 0, 2]::INTEGER[]"
        assert by_name["v_ints_empty"].default == "'{}'"
        assert by_name["big"].type == "BIGINT"
        assert by_name["v_interval_micro"].default == "'0.000001 seconds'"
        assert by_name["v_interval_long"].default == "'8639913600.000001 seconds'"
        assert by_name["v_real_ninf"].default == "'-Infinity'"
        assert by_name["v_real_negzero"].default == "0.0"
        assert by_name["v_timestamptz_offset"].default == "'2024-01-31 06:30:00.250000+00:00'"
        assert by_name["v_jsonb_order"].default == (
            """'{"a": {"b": 1, "zz": [{"x": 2, "y": 1}], "é": 0}, "bb": 1}'"""
        )
        assert by_name["v_numeric_exponent"].default == "1000"
        assert reading.schema.table("read_pg_only").columns[4].default == (
            "ARRAY['\\x01', '\\x', '\\xff00', '\\x27']::BYTEA[]"
        )
    else:
        assert by_name["v_real_inf"].default == "9e999"
        assert by_name["v_interval_micro"].default == "0.000001"
    assert by_name["target_default"].references == DbForeignKey(
        "read_target", "id", "SET DEFAULT", "SET DEFAULT"
    )


def same_value(column: Any, got: Any, want: Any, dialect: Dialect) -> bool:
    """Whether a value read back is the value ``want`` the column was given."""
    if isinstance(column, JSON):
        return bool(json.loads(got) == (json.loads(want) if isinstance(want, str) else want))
    if isinstance(want, list):
        return len(got) == len(want) and all(
            same_value(column.base_column, g, w, dialect) for g, w in zip(got, want, strict=True)
        )
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    if type(column) is Real and dialect.name == "postgres":
        # Single precision on PostgreSQL.
        return bool(got == struct.unpack("f", struct.pack("f", want))[0])
    return bool(got == want)


async def test_every_default_is_stored_as_given(db: Engine) -> None:
    # A default that reads back as the DDL wrote it must also be the value
    # given: a row inserted with every default holds each column's value.
    made = PG_MADE if db.dialect.name == "postgres" else HAND_MADE
    await create_tables(*made).run(engine=db)
    await db.execute('INSERT INTO "read_target" ("id", "code") VALUES (1, \'a\')')
    checked = 0
    for table in (Everything, PgOnly) if db.dialect.name == "postgres" else (Everything,):
        await db.execute(
            f'INSERT INTO {Dialect.quote(table._meta.tablename)} ("target_cascade",'
            ' "target_restrict") VALUES (1, 1)'
            if table is Everything
            else f"INSERT INTO {Dialect.quote(table._meta.tablename)} DEFAULT VALUES"
        )
        (row,) = await table.select().run(engine=db)
        for column in table._meta.columns:
            want = column._meta.default
            if not isinstance(want, (bytes, str, int, float, decimal.Decimal, list, dict)):
                if not isinstance(want, (datetime.date, datetime.time, datetime.timedelta)):
                    continue  # no default, or one the database computes
            if db.dialect.name == "sqlite" and column._meta.name == "v_interval_long":
                # An interval is a REAL number of seconds on SQLite: a double
                # holds 99999 days to about 2 microseconds.
                assert abs(row[column._meta.name] - want) <= datetime.timedelta(microseconds=2)
                continue
            got = row[column._meta.name]
            assert same_value(
                column, got, want, db.dialect
            ), f"{column._meta.name}: {got!r} != {want!r}"
            checked += 1
    assert checked >= 50


async def test_time_stamps_read_the_same_in_any_session_time_zone(pg_db: Engine) -> None:
    # SQLite keeps the DEFAULT text; PostgreSQL prints a constant in the session's zone.
    db = pg_db
    await create_tables(*HAND_MADE).run(engine=db)
    async with db.transaction():
        await db.execute("SET LOCAL TimeZone = 'Asia/Kolkata'")
        shown = await db.fetch(
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
            " JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
            " WHERE a.attname = 'v_timestamptz'"
        )
        assert "+05:30" in shown[0][0]  # the catalog's text moved; the read must not
        schema = await read_schema(db)
    assert schema == expected(HAND_MADE, db.dialect)


OTHER_STYLES = {
    "DateStyle": "SQL, DMY",
    "IntervalStyle": "sql_standard",
    "extra_float_digits": "0",
    "bytea_output": "escape",
}


async def test_defaults_read_the_same_in_any_output_style(pg_db: Engine) -> None:
    # PostgreSQL prints a default's constant in the session's styles; the
    # read sets its own for itself and puts the caller's back.
    db = pg_db
    await create_tables(*PG_MADE).run(engine=db)
    async with db.transaction():
        for name, value in OTHER_STYLES.items():
            await db.execute(f"SET LOCAL {name} = '{value}'")
        shown = await db.fetch(
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
            " JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
            " WHERE a.attname IN ('v_interval_neg', 'v_date') ORDER BY a.attname"
        )
        assert [row[0] for row in shown] == ["'31/12/1999'::date", "'-0:00:01.5'::interval"]
        schema = await read_schema(db)
        settings = [
            (await db.fetch(f"SELECT current_setting('{name}')"))[0][0] for name in OTHER_STYLES
        ]
        assert settings == list(OTHER_STYLES.values())
    assert schema == expected(PG_MADE, db.dialect), describe(schema, expected(PG_MADE, db.dialect))
    # On a database whose sessions start in other styles too.
    (name,) = (await db.fetch("SELECT current_database()"))[0]
    for setting, value in OTHER_STYLES.items():
        await db.execute(f"ALTER DATABASE \"{name}\" SET {setting} = '{value}'")
    fresh = PostgresEngine(config={"dsn": db.config["dsn"]})
    try:
        assert (await fresh.fetch("SHOW DateStyle"))[0][0] == "SQL, DMY"
        assert await read_schema(fresh) == expected(PG_MADE, db.dialect)
    finally:
        await fresh.close()


async def test_two_reads_of_one_database_are_equal(db: Engine) -> None:
    await create_tables(*generated.music.TABLES, *HAND_MADE).run(engine=db)
    first = await read_schema(db)
    second = await read_schema(db)
    assert first == second
    assert len(first.tables) == len(generated.music.TABLES) + len(HAND_MADE)
    assert first.dialect == db.dialect.name


async def test_tables_named_and_the_history_table(db: Engine) -> None:
    await create_tables(*generated.inventory.TABLES).run(engine=db)
    await db.execute(f'CREATE TABLE "{HISTORY_TABLE}" ("id" TEXT PRIMARY KEY)')
    everything = await read_schema(db)
    assert [t.name for t in everything] == ["price_tier", "stock_item", "warehouse"]
    only = await read_schema(db, tables=["warehouse", "no_such_table"])
    assert only == everything.only({"warehouse"})
    history = await read_schema(db, tables=[HISTORY_TABLE])
    assert [t.name for t in history] == [HISTORY_TABLE]
    with pytest.raises(TypeError, match="not the string 'warehouse'"):
        await read_schema(db, tables="warehouse")


async def test_empty_database_and_a_table_without_columns(db: Engine) -> None:
    assert await read_schema(db) == DbSchema(db.dialect.name, ())
    if db.dialect.name == "postgres":
        await db.execute('CREATE TABLE "bare" ()')
        assert await read_schema(db) == DbSchema("postgres", (DbTable("bare", ()),))


# -- what the model cannot hold: read, and noted -----------------------------------------


PG_BEYOND = [
    'CREATE TABLE "parent" ("a" INTEGER, "b" INTEGER, "name" TEXT, PRIMARY KEY ("a", "b"))',
    'CREATE TABLE "child" ('
    ' "id" INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,'
    ' "a" INTEGER, "b" INTEGER, "qty" INTEGER CHECK ("qty" > 0),'
    ' "twice" INTEGER GENERATED ALWAYS AS ("qty" * 2) STORED,'
    " \"address\" INET DEFAULT '127.0.0.1', \"label\" TEXT DEFAULT upper('x'),"
    ' FOREIGN KEY ("a", "b") REFERENCES "parent" ("a", "b"))',
    'CREATE INDEX "child_lower" ON "child" (lower("label"))',
    'CREATE INDEX "child_partial" ON "child" ("qty") WHERE "qty" > 10',
    'CREATE INDEX "child_desc" ON "child" ("qty" DESC)',
    'CREATE INDEX "child_hash" ON "child" USING hash ("label")',
    'CREATE TABLE "measure" ("at" DATE NOT NULL) PARTITION BY RANGE ("at")',
    "CREATE TABLE \"measure_2024\" PARTITION OF \"measure\" FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
]

SQLITE_BEYOND = [
    'CREATE TABLE "parent" ("a" INTEGER, "b" INTEGER, "name" TEXT, PRIMARY KEY ("a", "b"))',
    'CREATE TABLE "child" ("id" INTEGER PRIMARY KEY AUTOINCREMENT,'
    ' "a" INTEGER, "b" INTEGER, "qty" integer CHECK ("qty" > 0),'
    ' "twice" INTEGER GENERATED ALWAYS AS ("qty" * 2) STORED,'
    " \"address\" inet DEFAULT '127.0.0.1', \"label\" text DEFAULT (upper('x')),"
    ' FOREIGN KEY ("a", "b") REFERENCES "parent" ("a", "b"))',
    'CREATE INDEX "child_lower" ON "child" (lower("label"))',
    'CREATE INDEX "child_partial" ON "child" ("qty") WHERE "qty" > 10',
    'CREATE INDEX "child_desc" ON "child" ("qty" DESC)',
    'CREATE VIRTUAL TABLE "search" USING fts5("body")',
]


async def test_what_the_model_cannot_hold_is_noted_not_fatal(db: Engine) -> None:
    postgres = db.dialect.name == "postgres"
    for sql in PG_BEYOND if postgres else SQLITE_BEYOND:
        await db.execute(sql)
    reading = await read_schema_notes(db)
    child = reading.schema.table("child")
    assert [c.name for c in child.columns] == ["id", "a", "b", "qty", "twice", "address", "label"]
    by_name = {c.name: c for c in child.columns}
    # An unknown type keeps the database's spelling; an expression default is kept.
    assert by_name["address"].type == ("inet" if postgres else "INET")
    assert by_name["address"].default == "'127.0.0.1'"
    assert by_name["label"].default == ("upper('x'::text)" if postgres else "(upper('x'))")
    assert by_name["a"].references is None  # the two-column key is the table's
    assert [(f.columns, f.table, f.to) for f in child.foreign_keys] == [
        (("a", "b"), "parent", ("a", "b"))
    ]
    # The plain index over a column is read; expressions are not.
    names = {i.name for i in child.indexes}
    assert "child_lower" not in names
    assert {"child_partial", "child_desc"} <= names
    parent = reading.schema.table("parent")
    assert [c.primary_key for c in parent.columns] == [False, False, False]
    assert parent.composite_key == ("a", "b")
    noted = "\n".join(str(n) for n in reading.notes)
    assert "several columns" not in noted
    expected_notes = [
        "child_lower",
        "child_partial",
        "child_desc",
        "twice",
    ]
    expected_notes += (
        [
            "identity column",
            "child_hash",
            "measure: is a partitioned table",
            "measure_2024: is a partition",
        ]
        if postgres
        else ["AUTOINCREMENT", 'unnamed CHECK ("qty" > 0)', "search: is a virtual table"]
    )
    # PostgreSQL names every check (``child_qty_check``): it is read into the
    # model. SQLite keeps no name for an unnamed one: noted and left out.
    if postgres:
        assert [(c.name, c.key) for c in child.checks] == [("child_qty_check", "qty > 0")]
        assert "check" not in noted.lower()
    else:
        assert child.checks == ()
    assert "measure" not in {t.name for t in reading.schema}
    for part in expected_notes:
        assert part in noted, f"no note mentions {part!r}:\n{noted}"
    assert all(isinstance(n, Note) for n in reading.notes)
    assert list(reading.notes) == sorted(reading.notes, key=lambda n: (n.table, n.what))


# -- many tables ---------------------------------------------------------------------------


async def test_reading_500_tables_on_postgres(pg_db: PostgresEngine) -> None:
    statements = []
    for n in range(500):
        statements.append(
            f'CREATE TABLE "t{n}" ("id" SERIAL PRIMARY KEY,'
            f" \"name\" VARCHAR(50) NOT NULL DEFAULT '' UNIQUE,"
            f' "parent" INTEGER REFERENCES "t{max(n - 1, 0)}" ("id") ON DELETE CASCADE,'
            f' "score" NUMERIC(5, 2) DEFAULT 0.00, "tags" TEXT[] DEFAULT \'{{}}\')'
        )
        statements.append(f'CREATE INDEX "t{n}_score" ON "t{n}" ("score")')
    await pg_db.execute(";\n".join(statements))
    started = time.perf_counter()
    schema = await read_schema(pg_db)
    elapsed = time.perf_counter() - started
    print(f"\nread_schema of 500 tables on PostgreSQL: {elapsed * 1000:.0f} ms")
    assert len(schema.tables) == 500
    t7 = schema.table("t7")
    assert t7.columns[2].references == DbForeignKey("t6", "id", "CASCADE", "NO ACTION")
    assert t7.indexes == (DbIndex("t7_score", ("score",)),)
    assert t7.unique == (DbUnique("t7_name_key", ("name",)),)
    assert [c.default for c in t7.columns] == [None, "''", None, "0.00", "'{}'"]


# -- the spellings, without a database ---------------------------------------------------


@pytest.mark.parametrize(
    ("formatted", "ours"),
    [
        ("character varying(50)", "VARCHAR(50)"),
        ("character varying", "VARCHAR"),
        ("character(1)", "CHAR(1)"),
        ("integer", "INTEGER"),
        ("bigint", "BIGINT"),
        ("smallint", "SMALLINT"),
        ("real", "REAL"),
        ("double precision", "DOUBLE PRECISION"),
        ("numeric(5,2)", "NUMERIC(5, 2)"),
        ("numeric", "NUMERIC"),
        ("boolean", "BOOLEAN"),
        ("date", "DATE"),
        ("time without time zone", "TIME"),
        ("time(3) without time zone", "TIME(3)"),
        ("timestamp without time zone", "TIMESTAMP"),
        ("timestamp with time zone", "TIMESTAMPTZ"),
        ("timestamp(0) with time zone", "TIMESTAMPTZ(0)"),
        ("interval", "INTERVAL"),
        ("uuid", "UUID"),
        ("json", "JSON"),
        ("jsonb", "JSONB"),
        ("bytea", "BYTEA"),
        ("text", "TEXT"),
        ("integer[]", "INTEGER[]"),
        ("character varying(20)[]", "VARCHAR(20)[]"),
        ("numeric(5,2)[]", "NUMERIC(5, 2)[]"),
        ("inet", "inet"),
        ("mood", "mood"),
        ('"Mood"', '"Mood"'),
    ],
)
def test_postgres_type_spelling(formatted: str, ours: str) -> None:
    assert pg_reader.db_type(formatted) == ours


@pytest.mark.parametrize(
    ("expression", "type_", "ours"),
    [
        ("'abc'::character varying", "VARCHAR(5)", "'abc'"),
        ("'it''s'::text", "TEXT", "'it''s'"),
        ("'-1'::integer", "INTEGER", "-1"),
        ("(-1)", "INTEGER", "-1"),
        ("false", "BOOLEAN", "FALSE"),
        ("'{}'::integer[]", "INTEGER[]", "'{}'"),
        ("ARRAY[1, 2]", "INTEGER[]", "ARRAY[1, 2]::INTEGER[]"),
        ("ARRAY[(1)::bigint]", "BIGINT[]", "ARRAY[1]::BIGINT[]"),
        (
            "ARRAY[1.50::numeric(5,2), ('-2'::integer)::numeric(5,2)]",
            "NUMERIC(5, 2)[]",
            "ARRAY[1.50, -2]::NUMERIC(5, 2)[]",
        ),
        ("'00:00:00'::interval", "INTERVAL", "'0.0 seconds'"),
        ("'1 day -00:00:01.5'::interval", "INTERVAL", "'86398.5 seconds'"),
        ("'-2 days +03:00:00'::interval", "INTERVAL", "'-162000.0 seconds'"),
        ("'1 mon'::interval", "INTERVAL", "'1 mon'::interval"),
        ("'2024-01-31 13:00:00+01'::timestamp with time zone", "TIMESTAMPTZ",
         "'2024-01-31 12:00:00+00:00'"),  # fmt: skip
        ("'1000000000000000000000000000000'::numeric", "DOUBLE PRECISION", "1e+30"),
        ("0.00001", "REAL", "1e-05"),
        ("'NaN'::real", "REAL", "'NaN'"),
        ("'-Infinity'::double precision", "DOUBLE PRECISION", "'-Infinity'"),
        ("ARRAY[(1.5)::real, 'Infinity'::real]", "REAL[]", "ARRAY[1.5, 'Infinity']::REAL[]"),
        ("0.0000001", "NUMERIC", "0.0000001"),
        ("'NaN'::numeric", "NUMERIC", "'NaN'::numeric"),
        ("'00:00:00.000001'::interval", "INTERVAL", "'0.000001 seconds'"),
        ("'-00:00:00.000007'::interval", "INTERVAL", "'-0.000007 seconds'"),
        ("'\\x01'::bytea", "BYTEA", "'\\x01'"),
        ("LOCALTIMESTAMP", "TIMESTAMP", "LOCALTIMESTAMP"),
        ("gen_random_uuid()", "UUID", "gen_random_uuid()"),
        ("nextval('t_id_seq'::regclass)", "INTEGER", "nextval('t_id_seq'::regclass)"),
        ("'{\"a\": 1}'::jsonb", "JSONB", "'{\"a\": 1}'"),
        ("'x'::text || 'y'::text", "TEXT", "'x'::text || 'y'::text"),
        ("E'a\\\\b'", "TEXT", "E'a\\\\b'"),
    ],
)
def test_postgres_default_spelling(expression: str, type_: str, ours: str) -> None:
    assert pg_reader.db_default(expression, type_) == ours


@pytest.mark.parametrize(
    ("declared", "ours"),
    [
        ("varchar(50)", "VARCHAR(50)"),
        ("numeric(5,2)", "NUMERIC(5, 2)"),
        ("NUMERIC( 5 ,2 )", "NUMERIC(5, 2)"),
        ("double   precision", "DOUBLE PRECISION"),
        ("", ""),
    ],
)
def test_sqlite_type_spelling(declared: str, ours: str) -> None:
    assert sqlite_reader.db_type(declared) == ours


@pytest.mark.parametrize(
    ("pragma", "ours"),
    [
        ("'a'", "'a'"),
        ("'it''s'", "'it''s'"),
        ("-1", "-1"),
        ("0.5", "0.5"),
        ("TRUE", "TRUE"),
        ("CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP"),
        ("X'00ff'", "X'00ff'"),
        ("datetime('now', 'localtime')", "(datetime('now', 'localtime'))"),
        (None, None),
    ],
)
def test_sqlite_default_spelling(pragma: str | None, ours: str | None) -> None:
    assert sqlite_reader.db_default(pragma) == ours


def test_sqlite_named_unique_constraints() -> None:
    sql = (
        'CREATE TABLE "t" ("a" TEXT CONSTRAINT "col" UNIQUE, "b" TEXT, "c d" TEXT,'
        ' CONSTRAINT "t_b_c d_key" UNIQUE ("b", "c d"), CONSTRAINT plain UNIQUE (b),'
        ' CONSTRAINT "q""uote" UNIQUE ( "a" , b ))'
    )
    assert sqlite_reader.unique_names(sql) == {
        ("b", "c d"): "t_b_c d_key",
        ("b",): "plain",
        ("a", "b"): 'q"uote',
    }


JSON_TEXTS = [
    '{"bb": 1, "a": 2, "ccc": {"é": 1, "z": 2, "aa": 3, "": 0}}',
    '{"b":1,"a":2,"a":3}',
    "[ 1e20, 1.5e-7, 1.50, -0, -0.0, 0.1e1, 123456789012345678901234567890e-40 ]",
    '"tab\\t nl\\n quote\\" back\\\\ slash\\/ ctl\\u001f del\\u007f é \\u00e9 ☃"',
    "true",
    "null",
    "[]",
    "{ }",
    '[{"y": [], "x": {}}, "s"]',
]


@pytest.mark.parametrize("text", JSON_TEXTS)
async def test_jsonb_text_is_what_postgres_keeps(pg_db: PostgresEngine, text: str) -> None:
    ((kept,),) = await pg_db.fetch("SELECT $1::jsonb::text", [text])
    assert jsonb_text(text) == kept


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (datetime.timedelta(0), "0.0"),
        (datetime.timedelta(seconds=90), "90.0"),
        (datetime.timedelta(seconds=-1.5), "-1.5"),
        (datetime.timedelta(microseconds=1), "0.000001"),
        (datetime.timedelta(microseconds=-7), "-0.000007"),
        (datetime.timedelta(days=99999, microseconds=1), "8639913600.000001"),
        (datetime.timedelta.max, "86399999999999.999999"),
    ],
)
def test_interval_seconds_are_exact(span: datetime.timedelta, text: str) -> None:
    assert seconds_text(span) == text
    whole, _, fraction = text.lstrip("-").partition(".")
    micros = int(whole) * 1_000_000 + int(fraction.ljust(6, "0"))
    assert datetime.timedelta(microseconds=-micros if text[0] == "-" else micros) == span


# -- one table as a schema state (what alter() compiles against) -------------------------


async def test_a_table_read_as_state_lowers_to_what_was_read(db: Engine) -> None:
    # read -> state -> lower is the identity on what our DDL made: every
    # type maps back to a state type writing it, every name and default kept.
    made = [*(PG_MADE if db.dialect.name == "postgres" else HAND_MADE), *generated.music.TABLES]
    made = with_targets(made)
    await create_tables(*made).run(engine=db)
    schema = await read_schema(db)
    compiler = compiler_for(db.dialect)
    for table in schema:
        read = await read_table_state(db._fetch_built, db.dialect, table.name)
        assert read is not None and read.notes == ()
        assert compiler.lower_table(read.table) == table, describe(
            DbSchema(schema.dialect, (compiler.lower_table(read.table),)), schema.only({table.name})
        )
    assert await read_table_state(db._fetch_built, db.dialect, "no_such_table") is None


async def test_a_table_read_as_state_names_what_it_cannot_hold(db: Engine) -> None:
    postgres = db.dialect.name == "postgres"
    for sql in PG_BEYOND if postgres else SQLITE_BEYOND:
        await db.execute(sql)
    parent = await read_table_state(db._fetch_built, db.dialect, "parent")
    assert parent is not None and parent.table.composite_key == ("a", "b")
    with pytest.raises(TableStateError, match="child.address has the type '(inet|INET)'"):
        await read_table_state(db._fetch_built, db.dialect, "child")
    await db.execute('ALTER TABLE "child" DROP COLUMN "address"')
    read = await read_table_state(db._fetch_built, db.dialect, "child")
    assert read is not None
    # The indexes the state would flatten stay out of it, and are noted.
    assert read.table.indexes == ()
    assert {n.index for n in read.notes} >= {"child_lower", "child_partial", "child_desc"}
    assert [c.name for c in read.table.columns] == ["id", "a", "b", "qty", "twice", "label"]
