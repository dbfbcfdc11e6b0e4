"""The DDL compiler (``runtime.schema.compile``) and the DDL session, on both engines.

The oracle: after every operation, compiled against the state before it and
run in a session, the database read back (``runtime.schema.read``) equals the
state after it lowered by the compiler, and the rows of the columns the
operation did not touch are unchanged; then the operation's inverse brings
the database back to the state before, rows included. A failed run leaves
schema and rows as they were.
"""

from __future__ import annotations

import datetime
import itertools
import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

import generated.music
from runtime import (
    AlterError,
    DataError,
    NotNullViolation,
    ProgrammingError,
    SQLiteEngine,
    UniqueViolation,
    _naming,
    create_tables,
)
from runtime._columns import UUID4, Date, DateNow, Integer, TimestampNow, Varchar
from runtime._engine import Engine, PostgresEngine
from runtime.schema import operations as ops
from runtime.schema import state
from runtime.schema.compile import TableRebuild, compiler_for, run_steps, statements_of
from runtime.schema.read import read_schema
from runtime.schema.session import ddl_session
from runtime.schema.state import Column, ForeignKey, Index, Schema, Table, Type, Unique

ARTIST = Table(
    "artist",
    (
        Column("id", Type("Serial"), primary_key=True),
        Column("name", Type("Varchar", length=40), default="", unique=True),
        Column("born", Type("Date"), null=True),
        Column("code", Type("Varchar", length=8), null=True, unique=True),
    ),
)
ALBUM = Table(
    "album",
    (
        Column("id", Type("Serial"), primary_key=True),
        Column("artist", Type("Integer"), references=ForeignKey("artist")),
        Column("title", Type("Varchar", length=50), default="", index=True),
        Column("year", Type("Integer"), default=2000),
        Column("price", Type("Numeric", digits=(6, 2)), null=True),
        Column("note", Type("Text"), null=True),
    ),
    indexes=(Index("album_year_price", ("year", "price")),),
    unique=(Unique("album_title_year_key", ("title", "year")),),
)
BASE = Schema((ARTIST, ALBUM))


async def run(engine: Engine, op: ops.Operation, before: Schema, **session: Any) -> Schema:
    """Compile ``op`` against ``before``, run it in a session; the state after it."""
    steps = compiler_for(engine.dialect).compile(op, before)
    async with ddl_session(engine, **session) as conn:
        await run_steps(conn, steps)
    return op.apply(before)


async def assert_is(engine: Engine, schema: Schema) -> None:
    """The database holds exactly ``schema`` (as the compiler lowers it)."""
    read = await read_schema(engine)
    assert read == compiler_for(engine.dialect).lower(schema)


async def rows(engine: Engine, table: str, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """The values of ``columns``, in an order that depends on nothing else."""
    listed = ", ".join(f'"{c}"' for c in columns)
    return sorted(
        (tuple(r) for r in await engine.fetch(f'SELECT {listed} FROM "{table}"')), key=repr
    )


async def snapshot(engine: Engine, schema: Schema) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of ``schema``."""
    return {t.name: await rows(engine, t.name, tuple(c.name for c in t.columns)) for t in schema}


async def untouched(
    engine: Engine, before: Schema, after: Schema, old: dict[str, list[tuple[Any, ...]]]
) -> None:
    """The columns that are the same in both states hold the same values."""
    for table in after:
        if not before.has(table.name):
            continue
        was = before.table(table.name)
        same = tuple(
            c.name for c in table.columns if was.has_column(c.name) and was.column(c.name) == c
        )
        positions = [[c.name for c in was.columns].index(name) for name in same]
        expected = sorted((tuple(row[i] for i in positions) for row in old[table.name]), key=repr)
        assert await rows(engine, table.name, same) == expected, table.name


def unordered(schema: Schema) -> dict[str, Table]:
    return {
        t.name: replace(t, columns=tuple(sorted(t.columns, key=lambda c: c.name))) for t in schema
    }


@pytest.fixture
async def base(db: Engine) -> Engine:
    """The two tables, with rows (one album with NULL price and note)."""
    schema = Schema()
    for table in BASE:
        schema = await run(db, ops.CreateTable(table), schema)
    await db.execute(
        "INSERT INTO \"artist\" (\"name\", \"born\") VALUES ('ann', '1960-02-03'), ('bob', '1970-05-01')"
    )
    await db.execute(
        'INSERT INTO "album" ("artist", "title", "year", "price") VALUES'
        " (1, 'one', 1990, 9.50), (1, 'two', 1991, NULL), (2, 'three', 1992, 1.25)"
    )
    await assert_is(db, BASE)
    return db


#: One operation of each kind (and each path: native and rebuild on SQLite).
OPERATIONS: dict[str, Callable[[Schema], ops.Operation]] = {
    "create_table": lambda s: ops.CreateTable(
        Table(
            "label",
            (
                Column("id", Type("Serial"), primary_key=True),
                Column(
                    "artist",
                    Type("Integer"),
                    null=True,
                    index=True,
                    references=ForeignKey("artist", on_delete="set_null"),
                ),
                Column("code", Type("UUID"), default=UUID4()),
                Column("tags", Type("Array", element=Type("Text")), default=[]),
                Column("opened", Type("Date"), default=DateNow()),
            ),
        )
    ),
    "drop_table": lambda s: ops.DropTable("album"),
    "rename_table_referenced": lambda s: ops.RenameTable("artist", "musician"),
    "rename_table_with_derived_names": lambda s: ops.RenameTable("album", "record"),
    "add_column_nullable": lambda s: ops.AddColumn(
        "album", Column("rating", Type("SmallInt"), null=True)
    ),
    "add_column_default": lambda s: ops.AddColumn(
        "album", Column("plays", Type("BigInt"), default=0)
    ),
    "add_column_unique": lambda s: ops.AddColumn(
        "artist", Column("slug", Type("Varchar", length=9), null=True, unique=True)
    ),
    "add_column_dynamic_default": lambda s: ops.AddColumn(
        "album", Column("added", Type("Timestamp"), default=TimestampNow())
    ),
    "add_column_indexed_key": lambda s: ops.AddColumn(
        "album",
        Column("producer", Type("Integer"), null=True, index=True, references=ForeignKey("artist")),
    ),
    "drop_column_plain": lambda s: ops.DropColumn("album", "note"),
    "drop_column_indexed": lambda s: ops.DropColumn("album", "title"),
    "drop_column_unique": lambda s: ops.DropColumn("artist", "code"),
    "rename_column_indexed": lambda s: ops.RenameColumn("album", "title", "name"),
    "rename_column_key": lambda s: ops.RenameColumn("artist", "id", "artist_id"),
    "alter_type_length": lambda s: ops.AlterColumn(
        "album", "title", type=Type("Varchar", length=80)
    ),
    "alter_type_kind": lambda s: ops.AlterColumn("album", "year", type=Type("BigInt")),
    "alter_type_key": lambda s: ops.AlterColumn("album", "id", type=Type("BigSerial")),
    "alter_null_on": lambda s: ops.AlterColumn("album", "title", null=True),
    "alter_null_off": lambda s: ops.AlterColumn(
        "artist", "born", null=False, default=datetime.date(2000, 1, 1)
    ),
    "alter_default": lambda s: ops.AlterColumn("album", "year", default=1999),
    "alter_drop_default": lambda s: ops.AlterColumn("album", "year", default=None),
    "alter_unique_on": lambda s: ops.AlterColumn("album", "note", unique=True),
    "alter_unique_off": lambda s: ops.AlterColumn("artist", "name", unique=False),
    "alter_index_on": lambda s: ops.AlterColumn("album", "year", index=True),
    "alter_index_off": lambda s: ops.AlterColumn("album", "title", index=False),
    "alter_references_actions": lambda s: ops.AlterColumn(
        "album",
        "artist",
        references=ForeignKey("artist", on_delete="restrict", on_update="no_action"),
    ),
    "alter_references_off": lambda s: ops.AlterColumn("album", "artist", references=None),
    "add_index": lambda s: ops.AddIndex(
        "album", Index("album_artist_year", ("artist", "year"), unique=True)
    ),
    "drop_index": lambda s: ops.DropIndex("album", "album_year_price"),
    "add_unique": lambda s: ops.AddUnique(
        "album", Unique("album_artist_title_key", ("artist", "title"))
    ),
    "drop_unique": lambda s: ops.DropUnique("album", "album_title_year_key"),
    "sequence": lambda s: ops.Sequence(
        (ops.DropColumn("album", "price"), ops.AlterColumn("album", "note", default="n"))
    ),
}


@pytest.mark.parametrize("name", OPERATIONS)
async def test_operation_and_its_inverse(base: Engine, name: str) -> None:
    op = OPERATIONS[name](BASE)
    before = await snapshot(base, BASE)
    after = await run(base, op, BASE)
    await assert_is(base, after)
    await untouched(base, BASE, after, before)
    if isinstance(op, ops.RenameTable):
        columns = tuple(c.name for c in BASE.table(op.old).columns)
        assert await rows(base, op.new, columns) == before[op.old]
    if isinstance(op, ops.RenameColumn):
        renamed = tuple(
            op.new if c.name == op.old else c.name for c in BASE.table(op.table).columns
        )
        assert await rows(base, op.table, renamed) == before[op.table]
    back = op.inverse(BASE)
    middle = await snapshot(base, after)
    restored = await run(base, back, after)
    await assert_is(base, restored)
    # The same tables as before (a column dropped and added back comes last).
    assert unordered(restored) == unordered(BASE)
    await untouched(base, after, BASE, middle)
    if not isinstance(op, (ops.DropTable, ops.DropColumn, ops.Sequence)):
        # (A dropped column comes back with its default, not its values.)
        assert await snapshot(base, restored) == before


async def test_rebuilds_and_natives_on_sqlite() -> None:
    """Which operations SQLite alters natively and which rebuild the table."""
    compiler = compiler_for("sqlite")
    kinds = {}
    for name, make in OPERATIONS.items():
        steps = compiler.compile(make(BASE), BASE)
        kinds[name] = any(isinstance(s, TableRebuild) for s in steps)
    rebuilt = {n for n, r in kinds.items() if r}
    assert rebuilt == {
        "add_column_unique",
        "add_column_dynamic_default",
        "drop_column_indexed",
        "drop_column_unique",
        "rename_table_with_derived_names",  # its table-level UNIQUE is named in CREATE TABLE
        "rename_column_indexed",  # (the same, and its column index is dropped and made)
        "alter_type_length",
        "alter_type_kind",
        "alter_type_key",
        "alter_null_on",
        "alter_null_off",
        "alter_default",
        "alter_drop_default",
        "alter_unique_on",
        "alter_unique_off",
        "alter_references_actions",
        "alter_references_off",
        "add_unique",
        "drop_unique",
        "sequence",
    }


# -- data operations -----------------------------------------------------------------


async def test_run_sql_per_dialect_and_run_python(base: Engine) -> None:
    sql = ops.RunSQL(
        {
            "sqlite": "UPDATE album SET note = 'lite' || year; UPDATE artist SET code = name",
            "postgres": "UPDATE album SET note = 'pg' || year; UPDATE artist SET code = name",
        },
        backwards="UPDATE album SET note = NULL; UPDATE artist SET code = NULL",
    )
    seen: list[Any] = []

    async def split(conn: Any) -> None:
        p = conn.dialect.placeholder
        for (title,) in await conn.fetch("SELECT title FROM album WHERE year > " + p(1), [1990]):
            await conn.execute(
                f"UPDATE album SET title = {p(1)} WHERE title = {p(2)}", [title.upper(), title]
            )
        seen.append(conn.dialect.name)

    python = ops.RunPython(split)
    steps = compiler_for(base.dialect).compile(ops.Sequence((sql, python)), BASE)
    assert statements_of(steps)[-1] == "-- run Python split"
    async with ddl_session(base) as conn:
        await run_steps(conn, steps)
    prefix = "lite" if base.dialect.name == "sqlite" else "pg"
    assert await rows(base, "album", ("title", "note")) == sorted(
        [("one", f"{prefix}1990"), ("TWO", f"{prefix}1991"), ("THREE", f"{prefix}1992")], key=repr
    )
    assert seen == [base.dialect.name]
    await run(base, sql.inverse(BASE), BASE)
    assert await rows(base, "album", ("note",)) == [(None,)] * 3
    await assert_is(base, BASE)


# -- failures leave everything as it was ---------------------------------------------

FAILING: dict[str, tuple[type[Exception], Callable[[], ops.Operation]]] = {
    # A native step first, then one that the rows refuse.
    "not_null_on_nulls": (
        NotNullViolation,
        lambda: ops.Sequence(
            (
                ops.AddColumn("album", Column("extra", Type("Integer"), null=True)),
                ops.AlterColumn("album", "price", null=False),
            )
        ),
    ),
    "unique_on_duplicates": (
        UniqueViolation,
        lambda: ops.Sequence(
            (
                ops.AlterColumn("album", "year", default=5),
                ops.AddUnique("album", Unique("album_artist_key", ("artist",))),
            )
        ),
    ),
    "run_sql_error": (
        ProgrammingError,
        lambda: ops.Sequence(
            (
                ops.RenameColumn("album", "note", "remark"),
                ops.DropColumn("album", "title"),
                ops.RunSQL("UPDATE album SET no_such_column = 1"),
            )
        ),
    ),
    "type_the_values_cannot_take": (
        DataError,
        lambda: ops.AlterColumn("album", "title", type=Type("Varchar", length=3)),
    ),
}


@pytest.mark.parametrize("name", FAILING)
async def test_a_failed_run_changes_nothing(base: Engine, name: str) -> None:
    before = await snapshot(base, BASE)
    error, make = FAILING[name]
    if name == "type_the_values_cannot_take" and base.dialect.name == "sqlite":
        pytest.skip("SQLite does not enforce a VARCHAR length (the runtime checks values)")
    with pytest.raises(error):
        await run(base, make(), BASE)
    await assert_is(base, BASE)
    assert await snapshot(base, BASE) == before


async def test_a_foreign_key_broken_by_a_change_is_refused_on_sqlite(
    sqlite_engine: SQLiteEngine,
) -> None:
    schema = Schema()
    for table in BASE:
        schema = await run(sqlite_engine, ops.CreateTable(table), schema)
    await sqlite_engine.execute("INSERT INTO artist (name) VALUES ('ann')")
    await sqlite_engine.execute("INSERT INTO album (artist, title) VALUES (1, 'a')")
    # With foreign keys off for the session, a row can lose its target; the
    # check before the commit catches it and nothing stays.
    with pytest.raises(AlterError, match="breaks foreign keys"):
        await run(sqlite_engine, ops.RunSQL("DELETE FROM artist"), schema)
    assert await rows(sqlite_engine, "artist", ("name",)) == [("ann",)]


# -- SQLite: rebuilds ----------------------------------------------------------------


async def test_a_rebuild_of_a_referenced_table_keeps_rows_triggers_and_views(
    sqlite_engine: SQLiteEngine,
) -> None:
    db = sqlite_engine
    schema = Schema()
    for table in BASE:
        schema = await run(db, ops.CreateTable(table), schema)
    await db.execute("INSERT INTO artist (name) VALUES ('ann'), ('bob')")
    await db.execute("INSERT INTO album (artist, title, year) VALUES (1, 'a', 1), (2, 'b', 2)")
    await db.execute(
        "CREATE TRIGGER artist_named AFTER UPDATE OF name ON artist"
        " BEGIN UPDATE album SET note = NEW.name WHERE artist = NEW.id; END"
    )
    await db.execute(
        "CREATE VIEW artist_albums AS SELECT a.name, b.title FROM artist a JOIN album b ON b.artist = a.id"
    )
    # A partial index no state holds: kept as SQLite has it.
    await db.execute("CREATE INDEX artist_born_partial ON artist (born) WHERE born IS NOT NULL")
    master = "SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'view', 'index') ORDER BY name"
    objects = await db.fetch(master)
    op = ops.AlterColumn("artist", "name", type=Type("Varchar", length=60), default="?")
    steps = compiler_for(db.dialect).compile(op, schema)
    assert [type(s) for s in steps] == [TableRebuild]
    schema = await run(db, op, schema)
    assert await db.fetch(master) == objects
    # ON DELETE CASCADE did not run when the old table was dropped.
    assert await rows(db, "album", ("artist", "title")) == [(1, "a"), (2, "b")]
    assert await rows(db, "artist_albums", ("name", "title")) == [("ann", "a"), ("bob", "b")]
    await db.execute("UPDATE artist SET name = 'cy' WHERE id = 2")
    assert await rows(db, "album", ("title", "note")) == [("a", None), ("b", "cy")]
    read = (await read_schema(db)).table("artist")
    modelled = tuple(i for i in read.indexes if i.name != "artist_born_partial")
    assert replace(read, indexes=modelled) == compiler_for(db.dialect).lower_table(
        schema.table("artist")
    )


async def test_inside_a_transaction_a_rebuild_is_a_savepoint(sqlite_engine: SQLiteEngine) -> None:
    db = sqlite_engine
    schema = Schema()
    for table in BASE:
        schema = await run(db, ops.CreateTable(table), schema)
    await db.execute("INSERT INTO artist (name) VALUES ('ann')")
    referenced = ops.AlterColumn("artist", "name", default="?")
    alone = ops.AlterColumn("album", "title", default="?")
    async with db.transaction():
        # Foreign keys cannot be switched off inside a transaction.
        with pytest.raises(AlterError, match="outside engine.transaction"):
            await run(db, referenced, schema)
        after = await run(db, alone, schema)
        await assert_is(db, after)
        await db.execute("INSERT INTO album (artist) VALUES (1)")
    assert await rows(db, "album", ("title",)) == [("?",)]
    with pytest.raises(RuntimeError, match="undo"):
        async with db.transaction():
            await run(db, ops.DropColumn("album", "note"), after)
            raise RuntimeError("undo")
    await assert_is(db, after)


# -- PostgreSQL: names and concurrency ---------------------------------------------


async def test_postgres_renames_rename_derived_names_and_the_sequence(
    pg_engine: PostgresEngine,
) -> None:
    db = pg_engine
    for name in ("sc_record", "sc_album", "sc_person", "sc_artist"):
        await db.execute(f'DROP TABLE IF EXISTS "{name}" CASCADE')
    schema = Schema(
        (
            replace(ARTIST, name="sc_artist"),
            replace(
                ALBUM,
                name="sc_album",
                columns=tuple(
                    replace(c, references=ForeignKey("sc_artist")) if c.references else c
                    for c in ALBUM.columns
                ),
                indexes=(Index("sc_album_year_price", ("year", "price")),),
                unique=(Unique("sc_album_title_year_key", ("title", "year")),),
            ),
        )
    )
    try:
        current = Schema()
        for table in schema:
            current = await run(db, ops.CreateTable(table), current)
        current = await run(db, ops.RenameTable("sc_album", "sc_record"), current)
        current = await run(db, ops.RenameColumn("sc_record", "id", "record_id"), current)
        current = await run(db, ops.RenameTable("sc_artist", "sc_person"), current)
        read = await read_schema(db, tables=current.names())
        assert read == compiler_for(db.dialect).lower(current)
        names = await db.fetch(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'sc_record'::regclass ORDER BY 1"
        )
        assert [n for (n,) in names] == [
            "sc_record_artist_fkey",
            "sc_record_pkey",
            "sc_record_title_year_key",
        ]
        (sequence,) = (await db.fetch("SELECT pg_get_serial_sequence('sc_record', 'record_id')"))[0]
        assert sequence == "public.sc_record_record_id_seq"
        await db.execute("INSERT INTO sc_person (name) VALUES ('ann')")
        await db.execute("INSERT INTO sc_record (artist) VALUES (1)")
        assert await db.fetch("SELECT record_id FROM sc_record") == [(1,)]
    finally:
        for name in ("sc_record", "sc_album", "sc_person", "sc_artist"):
            await db.execute(f'DROP TABLE IF EXISTS "{name}" CASCADE')


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_postgres_concurrent_index_outside_a_transaction(base: Engine) -> None:
    add = ops.AddIndex("album", Index("album_note", ("note",)), concurrently=True)
    steps = compiler_for(base.dialect).compile(add, BASE)
    assert steps == ['CREATE INDEX CONCURRENTLY "album_note" ON "album" ("note")']
    after = await run(base, add, BASE, transaction=False)
    await assert_is(base, after)
    back = await run(base, add.inverse(BASE), after, transaction=False)
    await assert_is(base, back)


# -- the lowered state is what create_tables makes -----------------------------------


async def test_lower_of_the_project_tables_is_what_create_tables_makes(db: Engine) -> None:
    tables = generated.music.TABLES
    await create_tables(*tables).run(engine=db)
    lowered = compiler_for(db.dialect).lower(state.of_tables(tables))
    assert await read_schema(db) == lowered


def test_create_table_is_the_table_classes_ddl() -> None:
    from runtime._ddl import create_table_sql

    for dialect in ("sqlite", "postgres"):
        compiler = compiler_for(dialect)
        for table in generated.music.TABLES:
            made = compiler.create_table(state.table_of(table), if_not_exists=True)
            assert made == create_table_sql(table, compiler.dialect, if_not_exists=True)
            assert made[0].startswith(f'CREATE TABLE IF NOT EXISTS "{table._meta.tablename}" (')


# -- defaults: one rule for the state and the DDL ------------------------------------


def test_zero_defaults_of_time_and_uuid_columns_are_dynamic() -> None:
    from runtime import UUID, Interval, Time, Timestamp, Timestamptz
    from runtime._columns import TimeNow, TimestamptzNow

    assert state.default_of(Date()) == DateNow()
    assert state.default_of(Time()) == TimeNow()
    assert state.default_of(Timestamp()) == TimestampNow()
    assert state.default_of(Timestamptz()) == TimestamptzNow()
    assert state.default_of(UUID()) == UUID4()
    assert state.default_of(Interval()) == datetime.timedelta(0)
    assert state.default_of(Date(null=True)) is None
    assert state.default_of(Date(default=datetime.date(2020, 1, 2))) == datetime.date(2020, 1, 2)
    assert state.default_of(Integer(primary_key=True)) is None
    assert state.default_of(Varchar()) == ""


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_compiled_defaults_are_the_columns_own(dialect: str) -> None:
    import generated

    compiler = compiler_for(dialect)
    modules = [
        getattr(generated, name) for name in ("music", "shop", "inventory", "features", "keys")
    ]
    count = 0
    for module in modules:
        for table in module.TABLES:
            for column in table._meta.columns:
                own = column._default_sql(column._state_default(), compiler.dialect)
                declared = None if column._meta.primary_key else own
                assert compiler.default_sql(state.column_of(column)) == declared, column
                count += 1
    assert count > 50


# -- long names: derived names past 63 bytes are shortened, and renamed ----------------

LONG = "t" * 58
LONG_TABLE = Table(
    LONG,
    (
        Column("id", Type("Serial"), primary_key=True),
        Column("c" * 50 + "_one", Type("Integer"), default=0, unique=True, index=True),
        Column("c" * 50 + "_two", Type("Integer"), null=True, references=ForeignKey(LONG)),
    ),
    unique=(
        Unique(
            _naming.unique_name(LONG, ("c" * 50 + "_one", "c" * 50 + "_two")),
            ("c" * 50 + "_one", "c" * 50 + "_two"),
        ),
    ),
)


async def test_renames_of_tables_with_long_names(db: Engine) -> None:
    current = await run(db, ops.CreateTable(LONG_TABLE), Schema())
    await assert_is(db, current)
    await db.execute(f'INSERT INTO "{LONG}" ("{"c" * 50}_one") VALUES (1), (2)')
    for op in (
        ops.RenameColumn(LONG, "c" * 50 + "_one", "d" * 50 + "_one"),
        ops.RenameTable(LONG, "u" * 58),
        ops.RenameColumn("u" * 58, "c" * 50 + "_two", "e" * 50 + "_two"),
    ):
        current = await run(db, op, current)
        await assert_is(db, current)
    assert await rows(db, "u" * 58, ("d" * 50 + "_one",)) == [(1,), (2,)]


def test_an_operation_the_state_refuses_compiles_to_nothing() -> None:
    for dialect in ("sqlite", "postgres"):
        with pytest.raises(state.SchemaStateError, match="has no column 'missing'"):
            compiler_for(dialect).compile(ops.DropColumn("album", "missing"), BASE)
        with pytest.raises(state.SchemaStateError, match="referenced by album.artist"):
            compiler_for(dialect).compile(ops.DropTable("artist"), BASE)


# -- random sequences of operations --------------------------------------------------

#: Seeds of the random sequences (``PICCOLO_GEN_COMPILE_SEEDS=n`` runs n of them).
SEEDS = range(int(os.environ.get("PICCOLO_GEN_COMPILE_SEEDS", "2")))


def random_operation(rng: Any, schema: Schema, counter: Callable[[], int]) -> ops.Operation:
    """One operation that the state and the rows accept (no data-dependent failure)."""
    table = rng.choice(schema.tables)
    others = [c for c in table.columns if not c.primary_key]
    referenced = {
        c.references.column for t, c in schema.referencing(table.name) if c.references is not None
    }
    droppable = [c for c in others if c.name not in referenced]
    n = counter()
    choices: list[Callable[[], ops.Operation]] = [
        lambda: ops.AddColumn(
            table.name,
            rng.choice(
                [
                    Column(
                        f"c{n}",
                        Type("Integer"),
                        default=rng.randint(0, 9),
                        index=rng.random() < 0.3,
                    ),
                    Column(
                        f"c{n}",
                        Type("Varchar", length=rng.randint(5, 30)),
                        null=True,
                        unique=rng.random() < 0.5,
                    ),
                    Column(f"c{n}", Type("Text"), default="t"),
                    Column(f"c{n}", Type("Timestamp"), default=TimestampNow()),
                    Column(
                        f"c{n}",
                        Type("Integer"),
                        null=True,
                        references=ForeignKey(rng.choice(schema.tables).name),
                    ),
                ]
            ),
        ),
        lambda: ops.RenameTable(table.name, f"{table.name.split('_r')[0]}_r{n}"),
    ]
    if droppable:
        column = rng.choice(droppable)
        choices.append(lambda: ops.DropColumn(table.name, column.name))
    if others:
        column = rng.choice(others)
        choices += [
            lambda: ops.RenameColumn(table.name, column.name, f"{column.name.split('_r')[0]}_r{n}"),
            lambda: ops.AlterColumn(table.name, column.name, index=not column.index),
            lambda: ops.AlterColumn(table.name, column.name, null=True),
        ]
        if column.type.kind == "Varchar" and column.type.length is not None:
            longer = replace(column.type, length=column.type.length + 5)
            choices.append(lambda: ops.AlterColumn(table.name, column.name, type=longer))
        if column.type.kind == "Integer" and column.references is None:
            choices.append(lambda: ops.AlterColumn(table.name, column.name, default=n))
        if column.unique:
            choices.append(lambda: ops.AlterColumn(table.name, column.name, unique=False))
        pair = ("id", column.name) if table.has_column("id") else None
        if pair is not None and all(u.columns != pair for u in table.unique):
            # (SQLite keeps one of two UNIQUE constraints over the same columns.)
            choices.append(lambda: ops.AddUnique(table.name, Unique(f"u{n}", pair)))
        if pair is not None:
            choices.append(lambda: ops.AddIndex(table.name, Index(f"i{n}", pair[::-1])))
    if table.indexes:
        index = rng.choice(table.indexes)
        choices.append(lambda: ops.DropIndex(table.name, index.name))
    if table.unique:
        group = rng.choice(table.unique)
        choices.append(lambda: ops.DropUnique(table.name, group.name))
    return rng.choice(choices)()


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_sequences_keep_the_database_as_the_state_says(
    base: Engine, seed: int
) -> None:
    import random

    rng = random.Random(seed)
    numbers = itertools.count()
    current = BASE
    counts = {t.name: len(await rows(base, t.name, ("id",))) for t in BASE}
    names = {t.name: t.name for t in BASE}  # original name -> current name
    for _ in range(25):
        op = random_operation(rng, current, lambda: next(numbers))
        after = await run(base, op, current)
        await assert_is(base, after)
        if isinstance(op, ops.RenameTable):
            names = {k: (op.new if v == op.old else v) for k, v in names.items()}
        current = after
    for original, count in counts.items():
        name = names[original]
        key = next(c.name for c in current.table(name).columns if c.primary_key)
        assert len(await rows(base, name, (key,))) == count
