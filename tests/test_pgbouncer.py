"""PostgreSQL through PgBouncer in transaction pooling mode (always runs).

Without ``pooler="transaction"`` asyncpg's named prepared statements meet
another server session than the one they were prepared on, and the query
fails with the runtime's ``ProgrammingError``, whose message names the
option; with it, queries, transactions, the pool, cancellation, batch reads
and ``insert_many()`` (COPY) work. Each test has a database of its own on
the server, reached through the session's PgBouncer (``conftest``), and
reads back through a direct connection to the server (the oracle).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import _pg
import _pgbouncer
import asyncpg  # type: ignore[import-untyped]
import pytest
from conftest import fresh_pg_database

from generated.music import Band, Manager
from runtime import ProgrammingError
from runtime._engine import PostgresEngine


@pytest.fixture
def database(pg_server: _pg.PgServer) -> Iterator[tuple[str, str]]:
    """A fresh database: (its URL on the server, its name)."""
    with fresh_pg_database(pg_server.dsn) as url:
        yield url, url.rsplit("/", 1)[1]


@pytest.fixture
async def bounced(
    database: tuple[str, str], pgbouncer: _pgbouncer.PgBouncer
) -> AsyncIterator[PostgresEngine]:
    """An engine with ``pooler="transaction"`` on the database, through PgBouncer."""
    engine = PostgresEngine({"dsn": pgbouncer.url(database[1])}, pooler="transaction")
    yield engine
    await engine.close()


async def _hold_server_session(url: str) -> asyncpg.Connection:
    """A client inside a transaction through PgBouncer: it holds the server
    session that was idle, so the next client's statement runs on another."""
    conn = await asyncpg.connect(url, statement_cache_size=0)
    await conn.execute("BEGIN")
    await conn.execute("SELECT 1")
    return conn


async def test_without_the_option_the_error_names_it(
    database: tuple[str, str], pgbouncer: _pgbouncer.PgBouncer
) -> None:
    url = pgbouncer.url(database[1])
    engine = PostgresEngine({"dsn": url})
    await engine.start_connection_pool(min_size=1, max_size=1)
    try:
        # Prepared (named, cached) on the one idle server session...
        assert [tuple(r) for r in await engine.fetch("SELECT $1::int", [1])] == [(1,)]
        holder = await _hold_server_session(url)
        try:
            # ...and run again on another one, which never saw it.
            with pytest.raises(ProgrammingError) as caught:
                await engine.fetch("SELECT $1::int", [1])
        finally:
            await holder.close()
    finally:
        await engine.close()
    message = str(caught.value)
    assert caught.value.code == "26000"
    assert 'pooler="transaction"' in message and "pool_mode = transaction" in message
    assert isinstance(caught.value.__cause__, asyncpg.InvalidSQLStatementNameError)


async def test_with_the_option_the_same_sequence_works(
    database: tuple[str, str], pgbouncer: _pgbouncer.PgBouncer
) -> None:
    url = pgbouncer.url(database[1])
    engine = PostgresEngine({"dsn": url}, pooler="transaction")
    assert engine.config["statement_cache_size"] == 0
    await engine.start_connection_pool(min_size=1, max_size=1)
    try:
        assert [tuple(r) for r in await engine.fetch("SELECT $1::int", [1])] == [(1,)]
        holder = await _hold_server_session(url)
        try:
            assert [tuple(r) for r in await engine.fetch("SELECT $1::int", [2])] == [(2,)]
        finally:
            await holder.close()
    finally:
        await engine.close()


def test_the_option_refuses_a_statement_cache() -> None:
    with pytest.raises(ValueError, match="statement_cache_size=0"):
        PostgresEngine({"statement_cache_size": 100}, pooler="transaction")
    with pytest.raises(ValueError, match="pooler must be one of transaction"):
        PostgresEngine({}, pooler="session")  # type: ignore[arg-type]
    assert "pooler='transaction'" in repr(PostgresEngine({}, pooler="transaction"))


async def test_queries_and_transactions_through_a_pool(
    bounced: PostgresEngine, database: tuple[str, str]
) -> None:
    for table in (Manager, Band):
        await table.create_table().run(engine=bounced)
    await bounced.start_connection_pool(min_size=4, max_size=4)

    async def write(n: int) -> None:
        async with bounced.transaction():
            (manager,) = await Manager.insert(Manager(name=f"m{n}")).run(engine=bounced)
            await Band.insert(Band(name=f"b{n}", manager=manager, popularity=n)).run(engine=bounced)
            if n % 3 == 0:
                raise LookupError("rolled back")

    results = await asyncio.gather(*(write(n) for n in range(30)), return_exceptions=True)
    assert sum(isinstance(result, LookupError) for result in results) == 10
    kept = [n for n in range(30) if n % 3]
    rows = (
        await Band.select(Band.name, Band.manager.name)
        .order_by(Band.popularity)
        .run(engine=bounced)
    )
    assert rows == [{"name": f"b{n}", "manager.name": f"m{n}"} for n in kept]
    # The server itself holds exactly the committed rows.
    direct = _pg.query(
        database[0],
        "SELECT b.name, m.name FROM band b JOIN manager m ON b.manager = m.id ORDER BY b.popularity",
    )
    assert direct == [[f"b{n}", f"m{n}"] for n in kept]
    # A batch read (a cursor, in a transaction of its own) and raw SQL.
    batches = [
        [tuple(r) for r in batch]
        async for batch in bounced.batches("SELECT popularity FROM band ORDER BY 1", [], 7)
    ]
    assert [n for batch in batches for (n,) in batch] == kept
    assert [len(batch) for batch in batches] == [7, 7, 6]


async def test_a_cancelled_statement_stops(bounced: PostgresEngine) -> None:
    await bounced.start_connection_pool(min_size=1, max_size=1)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(bounced.fetch("SELECT pg_sleep(30)"), 0.3)
    started = time.monotonic()
    # The same (only) connection serves again, once the server stopped the sleep.
    assert [tuple(r) for r in await bounced.fetch("SELECT 41 + 1")] == [(42,)]
    assert time.monotonic() - started < 10
    busy = await bounced.fetch(
        "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' "
        "AND state = 'active'"
    )
    assert busy[0][0] == 0


async def test_insert_many_copies_through_pgbouncer(
    bounced: PostgresEngine, database: tuple[str, str]
) -> None:
    for table in (Manager, Band):
        await table.create_table().run(engine=bounced)
    rows = [Band(name=f"b{n}", popularity=n) for n in range(500)]
    assert await Band.insert_many(rows).run(engine=bounced) == 500
    direct = _pg.query(database[0], "SELECT name, popularity FROM band ORDER BY popularity")
    assert direct == [[f"b{n}", n] for n in range(500)]


def _processes_naming(text: str) -> list[int]:
    """The processes whose command line holds ``text`` (zombies left out)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if text in command and _pg.process_runs(int(entry.name)):
                found.append(int(entry.name))
    return found


def test_stop_ends_the_pgbouncer_process(pg_server: _pg.PgServer) -> None:
    """No PgBouncer the tests started outlives stop() (it is started as the
    system user itself, so the signal reaches it), and its directory goes."""
    bouncer = _pgbouncer.start(pg_server.dsn)
    config = str(bouncer.root / "pgbouncer.ini")
    assert _processes_naming(config)
    assert _pg.query(bouncer.url("postgres"), "SELECT 1")[0][0] == 1
    bouncer.stop()
    deadline = time.monotonic() + 5
    while _processes_naming(config) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_naming(config) == []
    assert not bouncer.root.exists()
