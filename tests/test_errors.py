"""The runtime's exceptions: what the database refuses reaches the user as the
same class on both engines, with the driver's exception as ``__cause__`` and
the table, columns and constraint the database named."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

import runtime
from generated import music
from generated.music import Band, Manager
from runtime import (
    CheckViolation,
    DatabaseError,
    DataError,
    EngineError,
    ForeignKeyViolation,
    IntegrityError,
    NotNullViolation,
    OperationalError,
    PostgresEngine,
    ProgrammingError,
    SQLiteEngine,
    TransactionError,
    UniqueViolation,
    create_tables,
    drop_tables,
    use_engine,
)
from runtime._engine import Engine

HINT = "run `piccolo-gen migrations forwards`?"

# The same DDL on both engines; a table name that needs quoting, named
# constraints, a deferred foreign key (checked at COMMIT).
DDL = [
    "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
    """CREATE TABLE "child table" (
        id INTEGER PRIMARY KEY,
        code TEXT CONSTRAINT child_code_key UNIQUE,
        a INTEGER,
        b INTEGER,
        parent INTEGER CONSTRAINT child_parent_fkey REFERENCES parent (id),
        late INTEGER CONSTRAINT child_late_fkey REFERENCES parent (id)
            DEFERRABLE INITIALLY DEFERRED,
        qty INTEGER NOT NULL DEFAULT 0,
        price INTEGER CONSTRAINT price_positive CHECK (price > 0),
        CONSTRAINT child_a_b_key UNIQUE (a, b)
    )""",
    "INSERT INTO parent (id) VALUES (1)",
    """INSERT INTO "child table" (id, code, a, b, parent, qty, price)
        VALUES (1, 'x', 1, 1, 1, 1, 1)""",
]


def driver_error(engine: Engine) -> type[Exception]:
    return sqlite3.Error if isinstance(engine, SQLiteEngine) else asyncpg.PostgresError


@pytest.fixture
async def tables(engine: Engine) -> AsyncIterator[Engine]:
    for table in ('"child table"', "parent"):
        await engine.execute(f"DROP TABLE IF EXISTS {table}")
    for statement in DDL:
        await engine.execute(statement)
    try:
        yield engine
    finally:
        for table in ('"child table"', "parent"):
            await engine.execute(f"DROP TABLE IF EXISTS {table}")


@dataclass(frozen=True)
class Names:
    """What the database names in a violation."""

    table: str | None = None
    columns: tuple[str, ...] = ()
    constraint: str | None = None


@dataclass(frozen=True)
class Violation:
    """A statement the database refuses, what the runtime raises, and what
    each database names (SQLite says less than PostgreSQL)."""

    values: str
    kind: type[DatabaseError]
    postgres: Names
    sqlite: Names


CHILD = "child table"
VIOLATIONS = [
    Violation(
        "(1, 'y', 2, 2, NULL, 1, 1)",
        UniqueViolation,
        Names(CHILD, ("id",), "child table_pkey"),
        Names(CHILD, ("id",)),
    ),
    Violation(
        "(2, 'x', 2, 2, NULL, 1, 1)",
        UniqueViolation,
        Names(CHILD, ("code",), "child_code_key"),
        Names(CHILD, ("code",)),
    ),
    Violation(
        "(2, 'y', 1, 1, NULL, 1, 1)",
        UniqueViolation,
        Names(CHILD, ("a", "b"), "child_a_b_key"),
        Names(CHILD, ("a", "b")),
    ),
    Violation(
        "(2, 'y', 2, 2, 99, 1, 1)",
        ForeignKeyViolation,
        Names(CHILD, (), "child_parent_fkey"),
        Names(),
    ),
    Violation(
        "(2, 'y', 2, 2, NULL, NULL, 1)",
        NotNullViolation,
        Names(CHILD, ("qty",)),
        Names(CHILD, ("qty",)),
    ),
    Violation(
        "(2, 'y', 2, 2, NULL, 1, 0)",
        CheckViolation,
        Names(CHILD, (), "price_positive"),
        Names(None, (), "price_positive"),
    ),
]
INSERT = 'INSERT INTO "child table" (id, code, a, b, parent, qty, price) VALUES '


def check(error: BaseException, engine: Engine, kind: type[DatabaseError], names: Names) -> None:
    assert type(error) is kind
    assert isinstance(error, IntegrityError | DataError | OperationalError | ProgrammingError)
    assert isinstance(error.__cause__, driver_error(engine))
    assert error.__suppress_context__
    assert str(error.__cause__).split("\n")[0] in str(error)
    assert isinstance(error, DatabaseError)
    assert (error.table, error.columns, error.constraint) == (
        names.table,
        names.columns,
        names.constraint,
    )


# Every way a statement reaches the driver: the public methods, the query
# layer's own, inside and outside a transaction.
Path_ = Callable[[Engine, str], Awaitable[object]]


async def in_transaction(engine: Engine, sql: str) -> None:
    async with engine.transaction():
        await engine.execute(sql)


async def returning(engine: Engine, sql: str) -> object:
    return await engine.fetch(sql + " RETURNING id")


async def as_dicts(engine: Engine, sql: str) -> object:
    return await engine.fetch_dicts(sql + " RETURNING id")


async def many(engine: Engine, sql: str) -> None:
    await engine.executemany(sql, [[], []])


async def many_in_transaction(engine: Engine, sql: str) -> None:
    async with engine.transaction():
        await engine._executemany_built(sql, [[]])


async def built(engine: Engine, sql: str) -> object:
    return await engine._fetch_built(sql + " RETURNING id")


PATHS: list[Path_] = [
    lambda engine, sql: engine.execute(sql),
    returning,
    as_dicts,
    many,
    in_transaction,
    many_in_transaction,
    built,
    lambda engine, sql: engine._execute_built(sql),
]


async def test_violations_raise_the_runtime_classes_on_every_path(tables: Engine) -> None:
    engine = tables
    for violation in VIOLATIONS:
        names = violation.sqlite if isinstance(engine, SQLiteEngine) else violation.postgres
        for path in PATHS:
            with pytest.raises(violation.kind) as raised:
                await path(engine, INSERT + violation.values)
            check(raised.value, engine, violation.kind, names)
    # Nothing got in, and the engine still works after all those failures.
    assert [tuple(row) for row in await engine.fetch('SELECT id FROM "child table"')] == [(1,)]


async def test_names_that_need_quotes(engine: Engine) -> None:
    await engine.execute('DROP TABLE IF EXISTS "Odd, Table"')
    await engine.execute(
        'CREATE TABLE "Odd, Table" ("Mixed Case" INTEGER CONSTRAINT "Odd Key" UNIQUE, '
        '"not null" INTEGER NOT NULL DEFAULT 0)'
    )
    try:
        await engine.execute('INSERT INTO "Odd, Table" ("Mixed Case") VALUES (1)')
        with pytest.raises(UniqueViolation) as raised:
            await engine.execute('INSERT INTO "Odd, Table" ("Mixed Case") VALUES (1)')
        assert raised.value.columns == ("Mixed Case",)
        assert raised.value.table == "Odd, Table"
        if isinstance(engine, PostgresEngine):
            assert raised.value.constraint == "Odd Key"
        with pytest.raises(NotNullViolation) as not_null:
            await engine.execute('INSERT INTO "Odd, Table" ("not null") VALUES (NULL)')
        assert not_null.value.columns == ("not null",)
        assert not_null.value.table == "Odd, Table"
    finally:
        await engine.execute('DROP TABLE "Odd, Table"')


async def test_a_deleted_parent_still_referenced(tables: Engine) -> None:
    engine = tables
    with pytest.raises(ForeignKeyViolation) as raised:
        await engine.execute("DELETE FROM parent")
    names = Names() if isinstance(engine, SQLiteEngine) else Names(CHILD, (), "child_parent_fkey")
    check(raised.value, engine, ForeignKeyViolation, names)


async def test_a_deferred_foreign_key_fails_at_commit(tables: Engine) -> None:
    engine = tables
    transaction = engine.transaction()
    with pytest.raises(ForeignKeyViolation) as raised:
        async with transaction:
            await engine.execute(
                INSERT.replace("price)", "price, late)") + "(5, 'z', 5, 5, 1, 1, 1, 99)"
            )
    names = Names() if isinstance(engine, SQLiteEngine) else Names(CHILD, (), "child_late_fkey")
    check(raised.value, engine, ForeignKeyViolation, names)
    assert [tuple(row) for row in await engine.fetch('SELECT id FROM "child table"')] == [(1,)]


async def test_a_value_the_column_cannot_take_is_a_data_error(tables: Engine) -> None:
    engine = tables
    # SQLite: "datatype mismatch" (an INTEGER PRIMARY KEY holds integers only);
    # PostgreSQL: invalid input syntax for type integer.
    with pytest.raises(DataError) as raised:
        await engine.execute("INSERT INTO parent (id) VALUES ('abc')")
    check(raised.value, engine, DataError, Names())


async def test_a_syntax_error_is_a_programming_error_without_the_migrations_hint(
    engine: Engine,
) -> None:
    for sql in ["SELEC 1", "SELECT FROM WHERE"]:
        with pytest.raises(ProgrammingError) as raised:
            await engine.fetch(sql)
        check(raised.value, engine, ProgrammingError, Names())
        assert HINT not in str(raised.value)


# -- a database behind the schema: missing tables and columns ----------------------


@pytest.fixture
async def music_tables(engine: Engine) -> AsyncIterator[Engine]:
    use_engine(engine, *music.TABLES)
    await drop_tables(*music.TABLES, if_exists=True)
    try:
        yield engine
    finally:
        await drop_tables(*music.TABLES, if_exists=True)
        use_engine(None, *music.TABLES)


def check_missing(
    error: BaseException, engine: Engine, table: str | None, column: str | None
) -> None:
    assert type(error) is ProgrammingError
    assert isinstance(error.__cause__, driver_error(engine))
    assert error.table == table
    assert error.columns == ((column,) if column else ())
    assert HINT in str(error)
    if column is None:
        assert f"table {table!r} does not exist" in str(error)
    else:
        assert f"column {column!r}" in str(error)


async def test_a_missing_table_names_it_and_hints_at_migrations(music_tables: Engine) -> None:
    engine = music_tables
    queries: list[Callable[[], Awaitable[object]]] = [
        lambda: Band.select(),
        lambda: Band.objects().first(),
        lambda: Band.count(),
        lambda: Band.insert(Band(name="x")),
        lambda: Band.update({Band.popularity: 1}, force=True),
        lambda: Band.delete(force=True),
        lambda: Band.select(Band.name, Band.manager.name),
        lambda: engine.fetch("SELECT * FROM band"),
    ]
    for query in queries:
        with pytest.raises(ProgrammingError) as raised:
            await query()
        check_missing(raised.value, engine, "band", None)
    await create_tables(Manager)  # the join's other table exists, band still not
    with pytest.raises(ProgrammingError) as raised:
        await Band.select(Band.name, Band.manager.name)
    check_missing(raised.value, engine, "band", None)


async def test_a_missing_column_names_it_and_hints_at_migrations(music_tables: Engine) -> None:
    engine = music_tables
    await create_tables(Manager, Band)
    # The generated table has a column the database lacks.
    await Band.alter().drop_column(Band.popularity)
    queries: list[Callable[[], Awaitable[object]]] = [
        lambda: Band.select(),
        lambda: Band.select(Band.popularity),
        lambda: Band.objects(),
        lambda: Band.select(Band.name).where(Band.popularity > 1),
        lambda: Band.update({Band.popularity: 1}, force=True),
        lambda: Band.insert(Band(name="x")),
        lambda: Band.objects().get_or_create(Band.name == "x"),
    ]
    for query in queries:
        with pytest.raises(ProgrammingError) as raised:
            await query()
        error = raised.value
        # SQLite and PostgreSQL name the column, qualified by its table when
        # the statement qualified it (the table, on PostgreSQL, for INSERT
        # and UPDATE too).
        assert error.table in ("band", None)
        check_missing(error, engine, error.table, "popularity")


async def test_an_alter_that_the_rows_refuse_raises_the_runtime_class(
    music_tables: Engine,
) -> None:
    # On SQLite this rebuilds manager, which band references: the rebuild
    # runs on a connection of its own.
    await create_tables(Manager, Band)
    await Manager.insert(Manager(name="twice"), Manager(name="twice"))
    await Band.insert(Band(name="b", manager=1))
    with pytest.raises(UniqueViolation) as raised:
        await Manager.alter().set_unique(Manager.name)
    assert isinstance(raised.value.__cause__, driver_error(music_tables))
    assert raised.value.columns == ("name",)
    assert await Manager.count() == 2


# -- operational errors ---------------------------------------------------------------


async def test_sqlite_locked_database_is_an_operational_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite"
    engine = SQLiteEngine(path, timeout=0)
    await engine.execute("CREATE TABLE item (id INTEGER PRIMARY KEY)")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        attempts: list[Callable[[], Awaitable[object]]] = [
            lambda: engine.execute("INSERT INTO item VALUES (1)"),
            lambda: engine.fetch("SELECT * FROM item"),
            lambda: engine.executemany("INSERT INTO item VALUES (?)", [[2]]),
            lambda: engine.transaction(transaction_type="immediate").__aenter__(),
        ]
        for attempt in attempts:
            with pytest.raises(OperationalError, match="database is locked") as raised:
                await attempt()
            assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
            assert raised.value.code == "SQLITE_BUSY"
    finally:
        other.close()
        await engine.close()


async def test_sqlite_file_that_cannot_be_opened_is_an_operational_error(tmp_path: Path) -> None:
    engine = SQLiteEngine(tmp_path / "no such folder" / "db.sqlite")
    with pytest.raises(OperationalError, match="unable to open") as raised:
        await engine.fetch("SELECT 1")
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)


async def test_postgres_lock_and_statement_timeouts_are_operational_errors(pg_dsn: str) -> None:
    holder = await asyncpg.connect(pg_dsn)
    await holder.execute("DROP TABLE IF EXISTS locked_item; CREATE TABLE locked_item (id int)")
    engine = PostgresEngine(
        config={
            "dsn": pg_dsn,
            "server_settings": {"lock_timeout": "50", "statement_timeout": "500"},
        }
    )
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE locked_item IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(OperationalError, match="lock timeout") as raised:
                await engine.fetch("SELECT * FROM locked_item")
            assert isinstance(raised.value.__cause__, asyncpg.LockNotAvailableError)
        with pytest.raises(OperationalError, match="statement timeout") as raised:
            await engine.execute("SELECT pg_sleep(5)")
        assert isinstance(raised.value.__cause__, asyncpg.QueryCanceledError)
    finally:
        await holder.execute("DROP TABLE locked_item")
        await holder.close()
        await engine.close()


async def test_postgres_lost_and_refused_connections_are_operational_errors(pg_dsn: str) -> None:
    engine = PostgresEngine(config={"dsn": pg_dsn})
    with pytest.raises(OperationalError) as raised:
        async with engine.transaction():
            await engine.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    assert isinstance(raised.value.__cause__, asyncpg.PostgresError | asyncpg.InterfaceError)
    refused = PostgresEngine(config={"host": "127.0.0.1", "port": 1, "user": "postgres"})
    with pytest.raises(OperationalError, match="connection to PostgreSQL failed") as raised:
        await refused.fetch("SELECT 1")
    assert isinstance(raised.value.__cause__, OSError)
    await engine.close()


# -- the hierarchy ----------------------------------------------------------------


def test_one_hierarchy_exported_from_runtime() -> None:
    for name in ("IntegrityError", "DataError", "OperationalError", "ProgrammingError"):
        assert issubclass(getattr(runtime, name), DatabaseError)
    for kind in (UniqueViolation, ForeignKeyViolation, NotNullViolation, CheckViolation):
        assert issubclass(kind, IntegrityError)
    # The engine's own refusals and the database's errors share one base.
    assert issubclass(DatabaseError, EngineError)
    assert issubclass(TransactionError, EngineError)
    assert not issubclass(TransactionError, DatabaseError)
    assert runtime.AlterError.__mro__[1] is EngineError


async def test_the_runtimes_own_errors_pass_through_untranslated(engine: Engine) -> None:
    transaction = engine.transaction()
    with pytest.raises(TransactionError, match="refused"):
        async with transaction:
            await transaction.commit()
            await engine.fetch("SELECT 1")
