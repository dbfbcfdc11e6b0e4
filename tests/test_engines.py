"""Engines, transactions, run_sync() and engine discovery, on real databases.

Raw SQL only: these tests pin down the layer the query builders stand on.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import _pg
import asyncpg  # type: ignore[import-untyped]
import pytest

from runtime import ForeignKeyViolation, ProgrammingError, UniqueViolation
from runtime._discovery import EngineConfigError, engine_finder, reset_engine_finder
from runtime._engine import (
    Engine,
    EngineError,
    PostgresEngine,
    SQLiteEngine,
    TransactionError,
    TransactionState,
)
from runtime._sync import run_sync


def ph(engine: Engine, index: int) -> str:
    """The engine's placeholder for the ``index``-th parameter."""
    return engine.dialect.placeholder(index)


def insert_sql(engine: Engine) -> str:
    return f"INSERT INTO item (id, name) VALUES ({ph(engine, 1)}, {ph(engine, 2)})"


async def names(engine: Engine) -> list[str]:
    return [row[0] for row in await engine.fetch("SELECT name FROM item ORDER BY id")]


@pytest.fixture
async def items(engine: Engine) -> AsyncIterator[Engine]:
    """``engine`` with an empty ``item`` table (dropped afterwards)."""
    await engine.execute("DROP TABLE IF EXISTS item")
    await engine.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    yield engine
    await engine.execute("DROP TABLE IF EXISTS item")


# -- queries ------------------------------------------------------------------


async def test_fetch_execute_executemany(items: Engine) -> None:
    engine = items
    await engine.execute(insert_sql(engine), [1, "a"])
    await engine.executemany(insert_sql(engine), [(2, "b"), (3, "c")])
    rows = await engine.fetch(
        f"SELECT id, name FROM item WHERE id > {ph(engine, 1)} ORDER BY id", [1]
    )
    assert [(row[0], row[1]) for row in rows] == [(2, "b"), (3, "c")]
    assert await engine.fetch("SELECT id FROM item WHERE id = 99") == []


async def test_rows_are_the_drivers_own(items: Engine) -> None:
    engine = items
    await engine.execute(insert_sql(engine), [1, "a"])
    (row,) = await engine.fetch("SELECT id, name FROM item")
    expected = tuple if isinstance(engine, SQLiteEngine) else asyncpg.Record
    assert type(row) is expected
    assert (row[0], row[1], len(row)) == (1, "a", 2)


async def test_fetch_dicts(items: Engine) -> None:
    engine = items
    await engine.executemany(insert_sql(engine), [(1, "a"), (2, "b")])
    rows = await engine.fetch_dicts("SELECT id, name AS label FROM item ORDER BY id")
    assert rows == [{"id": 1, "label": "a"}, {"id": 2, "label": "b"}]
    assert await engine.fetch_dicts("DELETE FROM item WHERE id = 99") == []


async def test_executemany_is_atomic(items: Engine) -> None:
    engine = items
    await engine.execute(insert_sql(engine), [2, "existing"])
    with pytest.raises(UniqueViolation) as raised:
        await engine.executemany(insert_sql(engine), [(1, "a"), (2, "duplicate"), (3, "c")])
    assert isinstance(
        raised.value.__cause__, (sqlite3.IntegrityError, asyncpg.UniqueViolationError)
    )
    assert await names(engine) == ["existing"]


async def test_database_errors_propagate_and_engine_recovers(items: Engine) -> None:
    engine = items
    with pytest.raises(ProgrammingError, match="(?i)syntax"):
        await engine.execute("SELEKT 1")
    assert (await engine.fetch("SELECT 1"))[0][0] == 1


# -- transactions ---------------------------------------------------------


async def test_transaction_commits(items: Engine) -> None:
    engine = items
    async with engine.transaction() as transaction:
        assert engine.transaction_exists()
        await engine.execute(insert_sql(engine), [1, "a"])
        await engine.executemany(insert_sql(engine), [(2, "b")])
        assert await names(engine) == ["a", "b"]
    assert transaction.state is TransactionState.COMMITTED
    assert await names(engine) == ["a", "b"]


async def test_exception_rolls_back_and_propagates(items: Engine) -> None:
    engine = items
    with pytest.raises(ZeroDivisionError):
        async with engine.transaction() as transaction:
            await engine.execute(insert_sql(engine), [1, "a"])
            1 / 0
    assert transaction.state is TransactionState.ROLLED_BACK
    assert await names(engine) == []


async def test_database_error_rolls_back(items: Engine) -> None:
    engine = items
    with pytest.raises(UniqueViolation) as raised:
        async with engine.transaction():
            await engine.execute(insert_sql(engine), [1, "a"])
            await engine.execute(insert_sql(engine), [1, "duplicate"])
    assert isinstance(
        raised.value.__cause__, (sqlite3.IntegrityError, asyncpg.UniqueViolationError)
    )
    assert await names(engine) == []


async def test_nested_rollback_keeps_outer_work(items: Engine) -> None:
    engine = items
    async with engine.transaction() as outer:
        await engine.execute(insert_sql(engine), [1, "outer"])
        with pytest.raises(KeyError):
            async with engine.transaction() as inner:
                assert inner.nested and not outer.nested
                await engine.execute(insert_sql(engine), [2, "inner"])
                raise KeyError
        assert inner.state is TransactionState.ROLLED_BACK
        async with engine.transaction():
            await engine.execute(insert_sql(engine), [3, "second inner"])
        assert await names(engine) == ["outer", "second inner"]
    assert await names(engine) == ["outer", "second inner"]


async def test_exception_through_nested_rolls_back_everything(items: Engine) -> None:
    engine = items
    with pytest.raises(KeyError):
        async with engine.transaction():
            await engine.execute(insert_sql(engine), [1, "outer"])
            async with engine.transaction():
                await engine.execute(insert_sql(engine), [2, "inner"])
                raise KeyError
    assert await names(engine) == []


async def test_nested_database_error_is_recoverable(items: Engine) -> None:
    # PostgreSQL aborts the whole transaction on an error; rolling back to the
    # nested transaction's savepoint makes it usable again.
    engine = items
    async with engine.transaction():
        await engine.execute(insert_sql(engine), [1, "a"])
        with pytest.raises(UniqueViolation):
            async with engine.transaction():
                await engine.execute(insert_sql(engine), [1, "duplicate"])
        await engine.execute(insert_sql(engine), [2, "b"])
    assert await names(engine) == ["a", "b"]


async def test_savepoint_rollback_to_and_release(items: Engine) -> None:
    engine = items
    async with engine.transaction() as transaction:
        await engine.execute(insert_sql(engine), [1, "kept"])
        savepoint = await transaction.savepoint("before_b")
        assert savepoint.name == "before_b"
        await engine.execute(insert_sql(engine), [2, "undone"])
        await savepoint.rollback_to()
        await engine.execute(insert_sql(engine), [3, "also undone"])
        await savepoint.rollback_to()  # a savepoint survives rolling back to it
        await engine.execute(insert_sql(engine), [4, "kept too"])
        await savepoint.release()
        with pytest.raises(TransactionError, match="already released"):
            await savepoint.rollback_to()
        anonymous = await transaction.savepoint()
        await engine.execute(insert_sql(engine), [5, "undone again"])
        await anonymous.rollback_to()
        with pytest.raises(ValueError, match="invalid savepoint name"):
            await transaction.savepoint("no; DROP TABLE item")
    assert await names(engine) == ["kept", "kept too"]


async def test_savepoint_refused_while_a_later_nested_transaction_is_open(items: Engine) -> None:
    engine = items
    async with engine.transaction() as transaction:
        savepoint = await transaction.savepoint()
        async with engine.transaction():
            with pytest.raises(TransactionError, match="still open"):
                await savepoint.rollback_to()
        await savepoint.rollback_to()
    with pytest.raises(TransactionError, match="committed"):
        await savepoint.release()


async def test_explicit_commit_and_rollback(items: Engine) -> None:
    engine = items
    async with engine.transaction() as transaction:
        await engine.execute(insert_sql(engine), [1, "a"])
        await transaction.commit()
        assert transaction.state is TransactionState.COMMITTED
        # Running outside the transaction silently would be a trap: refused.
        with pytest.raises(TransactionError, match="committed"):
            await engine.execute(insert_sql(engine), [2, "b"])
        with pytest.raises(TransactionError, match="cannot commit"):
            await transaction.commit()
    async with engine.transaction() as transaction:
        await engine.execute(insert_sql(engine), [3, "c"])
        await transaction.rollback()
        assert transaction.state is TransactionState.ROLLED_BACK
    async with engine.transaction():
        async with engine.transaction() as inner:
            await engine.execute(insert_sql(engine), [4, "d"])
            await inner.rollback()
        await engine.execute(insert_sql(engine), [5, "e"])
    assert await names(engine) == ["a", "e"]


async def test_transaction_object_serves_one_block(items: Engine) -> None:
    engine = items
    transaction = engine.transaction()
    assert transaction.state is TransactionState.NEW
    async with transaction:
        pass
    with pytest.raises(TransactionError, match="already committed"):
        async with transaction:
            pass


async def test_commit_with_open_nested_transaction_refused(items: Engine) -> None:
    engine = items
    async with engine.transaction() as outer:
        async with engine.transaction():
            with pytest.raises(TransactionError, match="still open"):
                await outer.commit()
        await engine.execute(insert_sql(engine), [1, "a"])
    assert await names(engine) == ["a"]


async def test_transaction_exists(items: Engine) -> None:
    engine = items
    assert not engine.transaction_exists()
    async with engine.transaction() as transaction:
        assert engine.transaction_exists()
        assert engine.current_transaction() is transaction
        async with engine.transaction() as inner:
            assert engine.transaction_exists()
            assert engine.current_transaction() is inner
        assert engine.current_transaction() is transaction
        await transaction.commit()
        assert not engine.transaction_exists()
    assert not engine.transaction_exists()
    assert engine.current_transaction() is None


async def test_concurrent_transactions_are_independent(items: Engine) -> None:
    engine = items
    seen: dict[str, object] = {}

    async def work(name: str, row_id: int, fail: bool) -> None:
        async with engine.transaction() as transaction:
            seen[name] = transaction
            await engine.execute(insert_sql(engine), [row_id, name])
            await asyncio.sleep(0.02)  # let the other task run meanwhile
            assert engine.current_transaction() is transaction
            assert name in await names(engine)
            if fail:
                raise RuntimeError(name)

    results = await asyncio.gather(
        work("committed", 1, False), work("rolled back", 2, True), return_exceptions=True
    )
    assert results[0] is None and isinstance(results[1], RuntimeError)
    assert seen["committed"] is not seen["rolled back"]
    assert await names(engine) == ["committed"]


async def test_tasks_started_inside_a_transaction_join_it(items: Engine) -> None:
    engine = items
    with pytest.raises(LookupError):
        async with engine.transaction():
            # Concurrent queries on the transaction's connection are serialized
            # (asyncpg would say "another operation is in progress").
            await asyncio.gather(
                *(engine.execute(insert_sql(engine), [i, f"n{i}"]) for i in range(5))
            )
            assert len(await names(engine)) == 5
            raise LookupError
    assert await names(engine) == []


async def test_concurrent_nested_transactions_refused(items: Engine) -> None:
    engine = items
    entered = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with engine.transaction():
            entered.set()
            await release.wait()

    async with engine.transaction():
        task = asyncio.create_task(first())
        await entered.wait()
        with pytest.raises(TransactionError, match="strict order"):
            async with engine.transaction():
                pass
        release.set()
        await task


async def test_transaction_refused_on_another_loop(items: Engine) -> None:
    engine = items
    async with engine.transaction():
        # asyncio.to_thread() copies the context, transaction included.
        with pytest.raises(TransactionError, match="another event loop"):
            await asyncio.to_thread(asyncio.run, engine.fetch("SELECT 1"))
        await engine.execute(insert_sql(engine), [1, "a"])
    assert await names(engine) == ["a"]


async def test_atomic(items: Engine) -> None:
    engine = items

    class Query:
        def __init__(self, row_id: int, name: str) -> None:
            self.row_id, self.name = row_id, name

        async def run(self) -> str:
            await engine.execute(insert_sql(engine), [self.row_id, self.name])
            return self.name

    async def count() -> int:
        return len(await names(engine))

    atomic = engine.atomic()
    atomic.add(Query(1, "a"), Query(2, "b"))
    atomic.add(count)
    assert await atomic.run() == ["a", "b", 2]

    failing = engine.atomic()
    failing.add(Query(3, "c"), Query(1, "duplicate"))
    with pytest.raises(UniqueViolation):
        await failing
    assert await names(engine) == ["a", "b"]

    coroutine = count()
    with pytest.raises(TypeError, match="awaited once"):
        atomic.add(coroutine)  # type: ignore[arg-type]
    coroutine.close()


# -- SQLite specifics -------------------------------------------------------


def other_connection(engine: SQLiteEngine) -> sqlite3.Connection:
    """A connection outside the engine that never waits for a lock."""
    return sqlite3.connect(engine.path, timeout=0, isolation_level=None)


async def test_sqlite_transaction_types(sqlite_engine: SQLiteEngine) -> None:
    engine = sqlite_engine
    await engine.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    other = other_connection(engine)
    try:
        # deferred: no lock before the first statement
        async with engine.transaction(transaction_type="deferred"):
            other.execute("INSERT INTO item VALUES (1, 'other')")
        for immediate in (engine.transaction(), engine.transaction(transaction_type="immediate")):
            assert immediate.transaction_type == "immediate"  # the default
            async with immediate:
                assert other.execute("SELECT count(*) FROM item").fetchone() == (1,)
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("INSERT INTO item VALUES (2, 'other')")
        async with engine.transaction(transaction_type="exclusive"):
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("SELECT count(*) FROM item")
        other.execute("INSERT INTO item VALUES (2, 'other')")
    finally:
        other.close()
    with pytest.raises(ValueError, match="transaction_type"):
        engine.transaction(transaction_type="eventual")  # type: ignore[arg-type]


async def test_sqlite_query_waits_for_a_transaction_of_another_task(
    sqlite_engine: SQLiteEngine,
) -> None:
    # Without the engine's lock the second insert would block the loop on
    # SQLite's busy timeout while the transaction holding the write lock
    # could never finish: "database is locked" after 5 s.
    engine = sqlite_engine
    await engine.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    order: list[str] = []
    written = asyncio.Event()

    async def transaction() -> None:
        async with engine.transaction():
            await engine.execute(insert_sql(engine), [1, "in transaction"])
            written.set()
            await asyncio.sleep(0.05)
        order.append("committed")

    async def plain() -> None:
        await written.wait()
        await engine.execute(insert_sql(engine), [2, "plain"])
        order.append("plain")

    started = time.monotonic()
    await asyncio.gather(transaction(), plain())
    assert order == ["committed", "plain"]
    assert time.monotonic() - started < 2
    assert await names(engine) == ["in transaction", "plain"]


async def test_sqlite_connection_setup(sqlite_engine: SQLiteEngine, tmp_path: Path) -> None:
    engine = sqlite_engine
    assert engine.path == str(tmp_path / "test.sqlite")
    assert (await engine.fetch("PRAGMA foreign_keys"))[0][0] == 1
    await engine.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    await engine.execute("CREATE TABLE child (parent INTEGER REFERENCES parent (id))")
    with pytest.raises(ForeignKeyViolation, match="FOREIGN KEY"):
        await engine.execute("INSERT INTO child VALUES (1)")
    # One cached connection per thread: a TEMP table lives as long as it does.
    await engine.execute("CREATE TEMP TABLE scratch (x INTEGER)")
    assert await engine.fetch("SELECT count(*) FROM scratch") == [(0,)]
    await engine.close()
    with pytest.raises(ProgrammingError, match="no such table"):
        await engine.fetch("SELECT count(*) FROM scratch")  # reconnected


def test_sqlite_refuses_memory_and_managed_arguments() -> None:
    with pytest.raises(ValueError, match="database file"):
        SQLiteEngine(":memory:")
    with pytest.raises(ValueError, match="isolation_level"):
        SQLiteEngine("x.sqlite", isolation_level="DEFERRED")


async def test_sqlite_path_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    engine = SQLiteEngine("relative.sqlite")
    assert engine.path == str(tmp_path / "relative.sqlite")
    monkeypatch.chdir("/")
    await engine.execute("CREATE TABLE t (x INTEGER)")
    await engine.close()
    assert (tmp_path / "relative.sqlite").exists()


# -- PostgreSQL specifics ---------------------------------------------------


async def backend_pid(engine: PostgresEngine) -> int:
    pid: int = (await engine.fetch("SELECT pg_backend_pid()"))[0][0]
    return pid


async def test_pg_transactions_use_their_own_connections(pg_engine: PostgresEngine) -> None:
    engine = pg_engine
    await engine.execute("DROP TABLE IF EXISTS item")
    await engine.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    pids: dict[str, int] = {}
    barrier = asyncio.Barrier(2)

    async def work(name: str, row_id: int) -> list[str]:
        async with engine.transaction():
            pids[name] = await backend_pid(engine)
            await engine.execute(insert_sql(engine), [row_id, name])
            await barrier.wait()  # both rows inserted, neither committed
            seen = await names(engine)
            await barrier.wait()  # both have looked
        return seen

    seen = list(await asyncio.gather(work("a", 1), work("b", 2)))
    assert seen == [["a"], ["b"]]
    assert pids["a"] != pids["b"]
    assert await names(engine) == ["a", "b"]
    await engine.execute("DROP TABLE item")


async def test_pg_transaction_options(pg_engine: PostgresEngine) -> None:
    engine = pg_engine
    async with engine.transaction(isolation_level="serializable", read_only=True):
        assert (await engine.fetch("SHOW transaction_isolation"))[0][0] == "serializable"
        with pytest.raises(ProgrammingError):
            await engine.execute("CREATE TABLE never (x INTEGER)")
    assert engine.transaction(isolation_level="repeatable_read", deferrable=True).begin_sql == (
        "BEGIN ISOLATION LEVEL REPEATABLE READ DEFERRABLE"
    )
    with pytest.raises(ValueError, match="isolation_level"):
        engine.transaction(isolation_level="chaos")  # type: ignore[arg-type]


async def test_pg_pool_start_and_close(pg_engine: PostgresEngine) -> None:
    engine = pg_engine
    await engine.start_connection_pool(min_size=1, max_size=1)
    with pytest.raises(EngineError, match="already open"):
        await engine.start_connection_pool()
    pids = {await backend_pid(engine) for _ in range(5)}
    async with engine.transaction():
        pids.add(await backend_pid(engine))
    with pytest.raises(ZeroDivisionError):
        async with engine.transaction():
            1 / 0
    pids.add(await backend_pid(engine))
    assert len(pids) == 1  # every query, transactions included, used the pool's connection
    await engine.close_connection_pool()
    await engine.close_connection_pool()  # idempotent
    assert len({await backend_pid(engine) for _ in range(2)}) == 2  # direct connections again
    await engine.start_connection_pool(min_size=1, max_size=2)  # may be opened again
    await engine.close()


async def test_pg_query_on_another_loop_than_the_pools(pg_engine: PostgresEngine) -> None:
    engine = pg_engine
    await engine.start_connection_pool(min_size=1, max_size=1)
    pool_pid = await backend_pid(engine)

    async def elsewhere() -> tuple[int, int]:
        async with engine.transaction():
            in_transaction = await backend_pid(engine)
        return await backend_pid(engine), in_transaction

    # A loop in another thread: fresh direct connections, never the pool's.
    for pid in await asyncio.to_thread(asyncio.run, elsewhere()):
        assert pid != pool_pid
    assert await backend_pid(engine) == pool_pid
    await engine.close_connection_pool()


async def test_pg_pool_opened_on_another_running_loop(pg_dsn: str) -> None:
    engine = PostgresEngine(config={"dsn": pg_dsn})
    run_sync(engine.start_connection_pool(min_size=1, max_size=1))  # lives on run_sync's loop
    pool_pid = run_sync(backend_pid(engine))
    assert await backend_pid(engine) != pool_pid  # this loop: a direct connection
    assert run_sync(backend_pid(engine)) == pool_pid
    await engine.close_connection_pool()  # closed on the pool's own loop
    assert engine._pool is None


async def test_pg_cancelled_transaction_does_not_poison_the_pool(pg_engine: PostgresEngine) -> None:
    engine = pg_engine
    await engine.start_connection_pool(min_size=1, max_size=1)

    async def slow() -> None:
        async with engine.transaction():
            await engine.execute("SELECT pg_sleep(2)")

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(5):
        async with engine.transaction():
            assert (await engine.fetch("SELECT 1"))[0][0] == 1
        assert (await engine.fetch("SELECT 1"))[0][0] == 1
    await engine.close_connection_pool()


async def test_pg_failed_commit(pg_engine: PostgresEngine) -> None:
    engine = pg_engine
    await engine.start_connection_pool(min_size=1, max_size=1)
    await engine.execute("DROP TABLE IF EXISTS item")
    await engine.execute(
        "CREATE TABLE item (id INTEGER, name TEXT NOT NULL, "
        "UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    with pytest.raises(UniqueViolation):
        async with engine.transaction() as transaction:
            await engine.executemany(insert_sql(engine), [(1, "a"), (1, "b")])
    assert transaction.state is TransactionState.FAILED  # raised by COMMIT itself
    async with engine.transaction():  # the pool's only connection is fine
        assert await names(engine) == []
    await engine.execute("DROP TABLE item")
    await engine.close_connection_pool()


async def test_pg_pool_of_a_loop_waiting_in_run_sync_is_not_closed_from_elsewhere(
    pg_engine: PostgresEngine,
) -> None:
    engine = pg_engine
    await engine.start_connection_pool(min_size=1, max_size=1)
    with pytest.raises(EngineError, match="waiting in run_sync"):
        run_sync(engine.close_connection_pool())  # this loop cannot run the close
    await engine.close_connection_pool()


# -- run_sync ---------------------------------------------------------------


def count_items(engine: Engine) -> int:
    """Sync code that queries: what a script or a notebook cell does."""
    count: int = run_sync(engine.fetch("SELECT count(*) FROM item"))[0][0]
    return count


def test_run_sync_repeatedly(engine: Engine) -> None:
    run_sync(engine.execute("DROP TABLE IF EXISTS item"))
    run_sync(engine.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"))
    for i in range(5):
        run_sync(engine.execute(insert_sql(engine), [i, f"n{i}"]))
        assert count_items(engine) == i + 1

    async def in_transaction() -> None:
        async with engine.transaction():
            await engine.execute(insert_sql(engine), [10, "t"])

    run_sync(in_transaction())
    assert count_items(engine) == 6
    run_sync(engine.execute("DROP TABLE item"))


def test_run_sync_with_a_pool_opened_through_run_sync(pg_dsn: str) -> None:
    engine = PostgresEngine(config={"dsn": pg_dsn})
    run_sync(engine.start_connection_pool(min_size=1, max_size=2))
    try:
        pids = {run_sync(backend_pid(engine)) for _ in range(20)}
        assert len(pids) <= 2  # the pool served them all
        for i in range(10):
            assert run_sync(engine.fetch("SELECT $1::int", [i]))[0][0] == i
    finally:
        run_sync(engine.close_connection_pool())


async def test_run_sync_inside_a_running_loop(items: Engine) -> None:
    engine = items
    await engine.execute(insert_sql(engine), [1, "a"])
    assert count_items(engine) == 1  # a sync function called from async code
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=1)  # bound to this loop
        assert count_items(engine) == 1  # run_sync's loop uses a direct connection
        await engine.close_connection_pool()


async def test_run_sync_inside_a_transaction_is_refused(items: Engine) -> None:
    engine = items
    async with engine.transaction():
        with pytest.raises(RuntimeError, match="deadlock"):
            count_items(engine)
        await engine.execute(insert_sql(engine), [1, "a"])
    assert count_items(engine) == 1


def test_run_sync_results_errors_and_context() -> None:
    variable: contextvars.ContextVar[str] = contextvars.ContextVar("variable", default="unset")

    async def read() -> str:
        return variable.get()

    async def fail() -> None:
        raise KeyError("boom")

    variable.set("caller's")
    assert run_sync(read()) == "caller's"
    with pytest.raises(KeyError, match="boom"):
        run_sync(fail())
    with pytest.raises(TypeError, match="coroutine"):
        run_sync(42)  # type: ignore[arg-type]

    async def outer() -> str:
        return "nested " + run_sync(read())  # run_sync() inside run_sync()

    assert run_sync(outer()) == "nested caller's"


# -- engine discovery --------------------------------------------------------


@pytest.fixture
def finder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A clean engine finder, with ``tmp_path`` importable; yields ``tmp_path``."""
    monkeypatch.delenv("PICCOLO_CONF", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    reset_engine_finder()
    modules = set(sys.modules)
    yield tmp_path
    reset_engine_finder()
    for name in set(sys.modules) - modules:
        if name.startswith("conf_"):
            del sys.modules[name]


def write_module(folder: Path, name: str, source: str) -> str:
    (folder / f"{name}.py").write_text(source)
    return name


def test_engine_finder_imports_piccolo_conf(finder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = write_module(
        finder,
        "conf_found",
        "from runtime._engine import SQLiteEngine\n" "DB = SQLiteEngine(path='from_conf.sqlite')\n",
    )
    monkeypatch.setenv("PICCOLO_CONF", name)
    engine = engine_finder()
    assert engine is sys.modules[name].DB
    assert engine_finder() is engine  # cached
    monkeypatch.setenv("PICCOLO_CONF", "conf_elsewhere")
    assert engine_finder() is engine  # until reset


def test_engine_finder_falls_back_to_sqlite(finder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(finder)
    if "piccolo_conf" in sys.modules:  # pragma: no cover - a stray project module
        monkeypatch.delitem(sys.modules, "piccolo_conf")
    engine = engine_finder()
    assert isinstance(engine, SQLiteEngine)
    assert engine.path == str(finder / "piccolo.sqlite")
    assert engine_finder() is engine
    assert not (finder / "piccolo.sqlite").exists()  # nothing is written until a query


def test_engine_finder_errors(finder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PICCOLO_CONF", "conf_missing")
    with pytest.raises(EngineConfigError, match="PICCOLO_CONF names the module 'conf_missing'"):
        engine_finder()
    reset_engine_finder()
    monkeypatch.setenv("PICCOLO_CONF", write_module(finder, "conf_no_db", "X = 1\n"))
    with pytest.raises(EngineConfigError, match="has no DB variable"):
        engine_finder()
    reset_engine_finder()
    monkeypatch.setenv("PICCOLO_CONF", write_module(finder, "conf_bad_db", "DB = 'sqlite'\n"))
    with pytest.raises(EngineConfigError, match="DB in the configuration module .* is str"):
        engine_finder()
    reset_engine_finder()
    broken = write_module(finder, "conf_broken", "import conf_dependency_missing\n")
    monkeypatch.setenv("PICCOLO_CONF", broken)
    with pytest.raises(ModuleNotFoundError, match="conf_dependency_missing"):
        engine_finder()


# -- the throwaway cluster ---------------------------------------------------


@pytest.mark.pg_cluster
def test_throwaway_cluster_starts_and_stops() -> None:
    # The session may be using a server that already runs; this starts the
    # fallback for real so that the path CI may depend on stays working.
    cluster = _pg.TempCluster()
    try:
        dsn = cluster.start()
    except _pg.PgUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"cannot start a throwaway cluster: {error}", pytrace=False)
        pytest.skip(f"cannot start a throwaway cluster: {error}")
    root = cluster.root
    try:
        assert _pg.query(dsn, "SELECT 1") == [[1]]

        async def through_engine() -> Any:
            engine = PostgresEngine(config={"dsn": dsn})
            return (await engine.fetch("SHOW fsync"))[0][0]

        assert run_sync(through_engine()) == "off"
    finally:
        cluster.stop()
    assert root is not None and not root.exists()
