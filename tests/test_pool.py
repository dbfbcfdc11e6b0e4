"""The PostgreSQL connection pool (runtime/_pool.py), on a real server.

Which connection served a query is told by ``pg_backend_pid()``; whether a
session was reset, by a setting changed on it (``application_name``,
``search_path``) or a lock taken in it. The statements the query layer builds
go through ``_fetch_built()`` / ``_execute_built()``: a pooled connection
that ran only those comes back without a reset, so a ``SET`` sent through
them (which the query layer never does) is seen by the next query, proving
that no reset ran.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from random import Random
from typing import Any, Protocol

import _pg
import asyncpg  # type: ignore[import-untyped]
import pytest

from generated import music
from generated.music import Band
from runtime import (
    DataError,
    EngineError,
    OperationalError,
    PostgresEngine,
    create_tables,
    drop_tables,
    use_engine,
)
from runtime._pool import Pool


class StartPool(Protocol):
    def __call__(self, **pool_kwargs: Any) -> Awaitable[PostgresEngine]: ...


@pytest.fixture
async def start_pool(pg_dsn: str) -> AsyncIterator[StartPool]:
    """Opens a pool on a new engine with the given options; closes them all afterwards."""
    engines: list[PostgresEngine] = []

    async def start(**pool_kwargs: Any) -> PostgresEngine:
        engine = PostgresEngine(config={"dsn": pg_dsn})
        engines.append(engine)
        await engine.start_connection_pool(**pool_kwargs)
        return engine

    yield start
    for engine in engines:
        await engine.close()


async def backend_pid(engine: PostgresEngine) -> int:
    pid: int = (await engine._fetch_built("SELECT pg_backend_pid()"))[0][0]
    return pid


async def setting(engine: PostgresEngine, name: str) -> str:
    value: str = (await engine._fetch_built(f"SHOW {name}"))[0][0]
    return value


async def backend_exists(observer: PostgresEngine, pid: int) -> bool:
    rows = await observer.fetch("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid])
    return bool(rows)


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until ``check()`` (a function or a coroutine function) is true;
    fail after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if result if isinstance(result, bool) else await result:
                return
            await asyncio.sleep(0.01)


def the_pool(engine: PostgresEngine) -> Any:
    assert engine._pool is not None
    return engine._pool


# -- reuse and reset ----------------------------------------------------------------


async def test_built_statements_reuse_the_connection_without_reset(start_pool: StartPool) -> None:
    engine = await start_pool(min_size=1, max_size=2)
    pid = await backend_pid(engine)
    assert {await backend_pid(engine) for _ in range(5)} == {pid}
    await engine._execute_built("SET application_name = 'kept'")
    assert await setting(engine, "application_name") == "kept"  # no reset in between
    async with engine.transaction():
        await engine._execute_built("SET application_name = 'kept_too'")
    assert await setting(engine, "application_name") == "kept_too"
    assert await backend_pid(engine) == pid
    assert the_pool(engine).size == 1


async def test_raw_sql_is_reset_before_the_connection_is_reused(start_pool: StartPool) -> None:
    engine = await start_pool(min_size=1, max_size=1)
    pid = await backend_pid(engine)
    default_name = await setting(engine, "application_name")
    default_path = await setting(engine, "search_path")

    await engine.execute("SET application_name = 'leaked'")
    assert await setting(engine, "application_name") == default_name
    await Band.raw("SET search_path = pg_catalog").run(engine=engine)
    assert await setting(engine, "search_path") == default_path
    await engine.fetch("SELECT set_config('application_name', 'leaked', false)")
    assert await setting(engine, "application_name") == default_name
    async with engine.transaction():
        await engine.execute("SET application_name = 'leaked'")  # outlives the COMMIT
        assert await setting(engine, "application_name") == "leaked"
    assert await setting(engine, "application_name") == default_name

    assert await backend_pid(engine) == pid  # reset, not replaced


async def test_an_advisory_lock_taken_by_raw_sql_is_released(
    start_pool: StartPool, pg_engine: PostgresEngine
) -> None:
    engine = await start_pool(min_size=1, max_size=1)
    held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"
    await engine.fetch("SELECT pg_advisory_lock(4242)")
    assert (await pg_engine.fetch(held))[0][0] == 0
    async with engine.transaction():
        await engine.fetch("SELECT pg_advisory_lock(4242)")  # session level: outlives the block
        assert (await pg_engine.fetch(held))[0][0] == 1
    assert (await pg_engine.fetch(held))[0][0] == 0


async def test_a_failed_statement_is_followed_by_a_reset(start_pool: StartPool) -> None:
    engine = await start_pool(min_size=1, max_size=1)
    pid = await backend_pid(engine)
    default_name = await setting(engine, "application_name")
    await engine._execute_built("SET application_name = 'before_the_error'")
    with pytest.raises(DataError):
        await engine._fetch_built("SELECT 1 / 0")
    assert await setting(engine, "application_name") == default_name
    assert await backend_pid(engine) == pid


async def test_a_connection_left_in_a_transaction_is_not_reused(start_pool: StartPool) -> None:
    engine = await start_pool(min_size=1, max_size=1)
    pid = await backend_pid(engine)
    await engine.execute("BEGIN")  # raw SQL outside engine.transaction()
    assert await backend_pid(engine) != pid  # dropped, not rolled back and reused
    assert the_pool(engine).size == 1


# -- waiting, cancellation, lost connections -------------------------------------------


async def test_waiters_are_served_in_arrival_order(start_pool: StartPool) -> None:
    engine = await start_pool(min_size=1, max_size=1)
    pool = the_pool(engine)
    served: list[int] = []

    async def query(number: int) -> None:
        await engine._fetch_built("SELECT $1::int", [number])
        served.append(number)

    held = await pool.acquire()  # the only connection
    tasks = []
    for number in range(1, 5):
        tasks.append(asyncio.create_task(query(number)))
        await eventually(lambda waiting=number: len(pool._waiters) == waiting)
    pool.release(held)
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks)
    assert served == [1, 2, 3, 4]
    assert pool.size == 1


async def test_a_cancelled_waiter_does_not_lose_the_connection(start_pool: StartPool) -> None:
    engine = await start_pool(min_size=1, max_size=1)
    pool = the_pool(engine)
    conn = await pool.acquire()

    # Cancelled while waiting.
    waiting = asyncio.create_task(pool.acquire())
    await eventually(lambda: len(pool._waiters) == 1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not pool._waiters

    # Cancelled after the connection was handed to it, before it resumed.
    served = asyncio.create_task(pool.acquire())
    await eventually(lambda: len(pool._waiters) == 1)
    pool.release(conn)
    served.cancel()
    with pytest.raises(asyncio.CancelledError):
        await served
    assert pool.acquire_nowait() is conn  # passed on, not lost
    pool.release(conn)
    assert pool.size == 1


async def test_a_query_cancelled_midway_does_not_poison_the_pool(
    start_pool: StartPool, pg_engine: PostgresEngine
) -> None:
    engine = await start_pool(min_size=1, max_size=1)
    pid = await backend_pid(engine)
    task = asyncio.create_task(engine._fetch_built("SELECT pg_sleep(10)"))

    async def sleeping() -> bool:
        rows = await pg_engine.fetch(
            "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep(10)%'",
            [pid],
        )
        return bool(rows)

    await eventually(sleeping)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not await sleeping()  # the give-back waited for the server to cancel it
    async with asyncio.timeout(5):
        assert await backend_pid(engine) == pid  # reset and reused
        assert (await engine._fetch_built("SELECT 1"))[0][0] == 1
    assert the_pool(engine).size == 1


async def test_a_command_timeout_does_not_poison_the_pool(start_pool: StartPool) -> None:
    engine = await start_pool(min_size=1, max_size=1, command_timeout=0.3)
    with pytest.raises(TimeoutError):
        await engine._fetch_built("SELECT pg_sleep(5)")
    async with asyncio.timeout(5):
        assert (await engine._fetch_built("SELECT 1"))[0][0] == 1


async def test_a_connection_killed_by_the_server_is_replaced(
    start_pool: StartPool, pg_engine: PostgresEngine
) -> None:
    engine = await start_pool(min_size=1, max_size=1)
    pid = await backend_pid(engine)
    await pg_engine.fetch("SELECT pg_terminate_backend($1)", [pid])

    async def gone() -> bool:
        return not await backend_exists(pg_engine, pid)

    await eventually(gone)
    await asyncio.sleep(0.2)  # let the client read the end of the stream
    new_pid = await backend_pid(engine)
    assert new_pid != pid
    assert the_pool(engine).size == 1


# -- recycling ------------------------------------------------------------------------


async def test_max_queries_replaces_a_connection(
    start_pool: StartPool, pg_engine: PostgresEngine
) -> None:
    engine = await start_pool(min_size=1, max_size=1, max_queries=3)
    pids = [await backend_pid(engine) for _ in range(7)]
    assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] == pids[5] != pids[6]

    async def closed() -> bool:
        return not await backend_exists(pg_engine, pids[0])

    await eventually(closed)


async def test_inactive_connections_beyond_min_size_are_closed(
    start_pool: StartPool, pg_engine: PostgresEngine
) -> None:
    engine = await start_pool(min_size=1, max_size=3, max_inactive_connection_lifetime=0.3)
    pool = the_pool(engine)
    sql = "SELECT pg_backend_pid() FROM pg_sleep(0.2)"
    results = await asyncio.gather(*(engine._fetch_built(sql) for _ in range(3)))
    pids = {rows[0][0] for rows in results}
    assert len(pids) == 3 and pool.size == 3

    await eventually(lambda: pool.size == 1)
    await asyncio.sleep(0.5)
    assert pool.size == 1  # min_size stays open

    async def closed_on_the_server() -> bool:
        alive = [pid for pid in pids if await backend_exists(pg_engine, pid)]
        return len(alive) == 1

    await eventually(closed_on_the_server)


# -- opening and closing --------------------------------------------------------------


async def test_min_size_is_opened_and_connect_options_pass_through(
    start_pool: StartPool, pg_engine: PostgresEngine
) -> None:
    name = "piccolo_gen_pool_test"
    engine = await start_pool(min_size=3, max_size=4, server_settings={"application_name": name})
    count = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
    assert (await pg_engine.fetch(count, [name]))[0][0] == 3
    assert the_pool(engine).size == 3
    await engine.execute("SET application_name = 'changed'")
    assert await setting(engine, "application_name") == name  # reset to the session's default
    await engine.close_connection_pool()
    assert (await pg_engine.fetch(count, [name]))[0][0] == 0


async def test_init_and_setup(start_pool: StartPool) -> None:
    inits: list[object] = []
    setups: list[object] = []

    async def init(conn: object) -> None:
        inits.append(conn)

    async def setup(conn: object) -> None:
        setups.append(conn)

    engine = await start_pool(min_size=1, max_size=2, init=init, setup=setup)
    assert len(inits) == 1 and not setups
    for _ in range(3):
        await backend_pid(engine)
    assert len(inits) == 1 and len(setups) == 3
    assert set(map(id, setups)) == {id(inits[0])}


async def test_close_waits_for_connections_in_use(
    start_pool: StartPool, pg_engine: PostgresEngine
) -> None:
    engine = await start_pool(min_size=1, max_size=1)
    inside, leave = asyncio.Event(), asyncio.Event()
    pids: list[int] = []

    async def transaction() -> None:
        async with engine.transaction():
            pids.append(await backend_pid(engine))
            inside.set()
            await leave.wait()
            pids.append(await backend_pid(engine))

    task = asyncio.create_task(transaction())
    await inside.wait()
    closing = asyncio.create_task(engine.close_connection_pool())
    await asyncio.sleep(0.3)
    assert not closing.done()
    assert await backend_pid(engine) != pids[0]  # the engine connects directly meanwhile
    leave.set()
    async with asyncio.timeout(5):
        await asyncio.gather(task, closing)
    assert pids[0] == pids[1]  # the transaction kept its connection to the end
    assert not await backend_exists(pg_engine, pids[0])


async def test_terminate_closes_connections_in_use(start_pool: StartPool) -> None:
    engine = await start_pool(min_size=2, max_size=2)
    pool = the_pool(engine)
    conn = await pool.acquire()
    pool.terminate()
    assert conn.is_closed() and pool.size == 0
    with pytest.raises(EngineError, match="closed"):
        await pool.acquire()
    pool.release(conn)  # coming back after terminate() is harmless
    assert pool.size == 0 and pool.idle_size == 0


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"min_size": 3, "max_size": 2}, ValueError, r"min_size \(3\) must not exceed max_size"),
        ({"max_size": 0, "min_size": 0}, ValueError, "max_size must be an integer >= 1"),
        ({"min_size": -1}, ValueError, "min_size must be an integer >= 0"),
        ({"max_queries": 0}, ValueError, "max_queries must be an integer >= 1"),
        ({"max_inactive_connection_lifetime": -1}, ValueError, "seconds >= 0"),
        ({"reset": None}, TypeError, "does not take reset"),
        ({"min_sise": 1}, TypeError, r"asyncpg.connect\(\) rejects"),
    ],
)
async def test_bad_pool_options_are_refused(
    pg_engine: PostgresEngine, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await pg_engine.start_connection_pool(**options)
    assert pg_engine._pool is None


# -- cancellation: the server stops the statement, the pool stays within max_size ---------
#
# Each test names its sessions with an application_name of its own and counts
# only those in pg_stat_activity: the server is shared.

SLEEP = "SELECT pg_sleep(30)"


def app_name(tag: str) -> str:
    """An application_name that no other test (or test session) uses."""
    return f"piccolo_gen_{tag}_{os.getpid()}"


async def sessions(dsn: str, name: str, *, busy: bool = False) -> list[Any]:
    """The server's sessions named ``name`` (``busy``: those running a statement)."""
    sql = "SELECT pid, query FROM pg_stat_activity WHERE application_name = $1"
    if busy:
        sql += " AND state <> 'idle'"
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, name))
    finally:
        await conn.close()


class SessionCounter:
    """Samples the number of the server's sessions named ``name`` while the
    ``async with`` block runs; ``peak`` is the highest count seen. Goes on
    (reconnecting) while the server is down."""

    def __init__(self, dsn: str, name: str) -> None:
        self.dsn, self.name = dsn, name
        self.peak = self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        conn: Any = None
        try:
            while True:
                try:
                    if conn is None or conn.is_closed():
                        conn = await asyncpg.connect(self.dsn)
                    count = await conn.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                        self.name,
                    )
                except (
                    OSError,
                    asyncpg.PostgresError,
                    asyncpg.InterfaceError,
                    # asyncpg's own race at a restart, which the engine turns
                    # into a connection error (see the restart test below)
                    asyncpg.InternalClientError,
                ):
                    await asyncio.sleep(0.05)  # the server is down
                    continue
                self.peak, self.samples = max(self.peak, count), self.samples + 1
                await asyncio.sleep(0.005)
        finally:
            if conn is not None:
                conn.terminate()

    async def __aenter__(self) -> SessionCounter:
        self._task = asyncio.create_task(self._sample())
        await eventually(lambda: self.samples > 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task


async def sleep_built(engine: PostgresEngine) -> None:
    await engine._fetch_built(SLEEP)


async def sleep_raw(engine: PostgresEngine) -> None:
    await engine.fetch(SLEEP)


async def sleep_execute(engine: PostgresEngine) -> None:
    await engine.execute(SLEEP)


async def sleep_in_transaction(engine: PostgresEngine) -> None:
    async with engine.transaction():
        await engine._fetch_built("SELECT 1")
        await engine.fetch(SLEEP)


async def sleep_in_batches(engine: PostgresEngine) -> None:
    async for _ in engine.batches(SLEEP, [], 10):
        pass


SLEEPERS = [sleep_built, sleep_raw, sleep_execute, sleep_in_transaction, sleep_in_batches]


@pytest.mark.parametrize("pooled", [True, False], ids=["pool", "direct"])
async def test_cancelled_queries_stop_on_the_server(pg_dsn: str, pooled: bool) -> None:
    name = app_name("cancel")
    max_size = 4
    engine = PostgresEngine(config={"dsn": pg_dsn, "server_settings": {"application_name": name}})
    if pooled:
        await engine.start_connection_pool(min_size=2, max_size=max_size)
    random = Random(10)
    try:
        async with SessionCounter(pg_dsn, name) as counter:
            for _ in range(3):
                # More queries than connections: some time out while waiting for one.
                sleepers = random.choices(SLEEPERS, k=6)
                results = await asyncio.gather(
                    *(asyncio.wait_for(sleeper(engine), 0.2) for sleeper in sleepers),
                    return_exceptions=True,
                )
                assert all(isinstance(result, TimeoutError) for result in results), results

            async def none_sleeping() -> bool:
                return not await sessions(pg_dsn, name, busy=True)

            await eventually(none_sleeping, timeout=3)
            if pooled:
                assert counter.peak <= max_size
                assert (await engine._fetch_built("SELECT 1"))[0][0] == 1
                assert the_pool(engine).size <= max_size
    finally:
        await engine.close()
    if not pooled:

        async def all_closed() -> bool:
            return not await sessions(pg_dsn, name)

        await eventually(all_closed, timeout=3)  # every direct connection was closed


async def test_timed_out_writes_never_commit(start_pool: StartPool, pg_dsn: str) -> None:
    name = app_name("writes")
    engine = await start_pool(min_size=2, max_size=4, server_settings={"application_name": name})
    await engine.execute("DROP TABLE IF EXISTS pool_counter")
    await engine.execute("CREATE TABLE pool_counter (id integer PRIMARY KEY, n integer NOT NULL)")
    await engine.execute("INSERT INTO pool_counter VALUES (1, 0), (2, 0)")
    blocked = "UPDATE pool_counter SET n = n + 1 WHERE id = 1"  # waits for the row lock

    async def update_in_transaction() -> None:
        async with engine.transaction():
            await engine._execute_built("UPDATE pool_counter SET n = n + 1 WHERE id = 2")
            await engine._execute_built(blocked)

    async def update_then_sleep() -> None:
        async with engine.transaction():
            await engine._execute_built("UPDATE pool_counter SET n = n + 1 WHERE id = 2")
            await engine.fetch(SLEEP)

    writes: list[Callable[[], Awaitable[object]]] = [
        lambda: engine._execute_built(blocked),
        lambda: engine.execute(blocked),
        lambda: engine._executemany_built(
            "UPDATE pool_counter SET n = n + $1 WHERE id = 1", [(1,), (2,)]
        ),
        update_in_transaction,
        update_then_sleep,
    ]
    holder = await asyncpg.connect(pg_dsn)
    try:
        async with holder.transaction():
            await holder.execute("SELECT n FROM pool_counter WHERE id = 1 FOR UPDATE")
            results = await asyncio.gather(
                *(asyncio.wait_for(write(), 0.2) for write in writes * 2),
                return_exceptions=True,
            )
            assert all(isinstance(result, TimeoutError) for result in results), results
        # The lock is released: an UPDATE still waiting for it would run now.

        async def all_idle() -> bool:
            return not await sessions(pg_dsn, name, busy=True)

        await eventually(all_idle, timeout=3)
        rows = await holder.fetch("SELECT id, n FROM pool_counter ORDER BY id")
        assert [tuple(row) for row in rows] == [(1, 0), (2, 0)]
    finally:
        await holder.execute("DROP TABLE pool_counter")
        await holder.close()


# -- reset after raw SQL: the next user gets a session as new --------------------------

#: What a session looks like to its user (its backend's pid aside). A custom
#: setting (``SET x.y``), once defined in a session, stays defined: reset, it
#: reads '' where a new session reads NULL (even after DISCARD ALL).
FINGERPRINT = """
SELECT current_user, session_user, current_setting('search_path'),
       current_setting('application_name'), current_setting('statement_timeout'),
       coalesce(current_setting('piccolo_gen.custom', true), ''),
       (SELECT count(*) FROM pg_prepared_statements WHERE from_sql),
       (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()),
       (SELECT count(*) FROM pg_listening_channels()),
       (SELECT count(*) FROM pg_cursors WHERE is_holdable),
       (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())
"""


@pytest.fixture
async def roles(pg_engine: PostgresEngine) -> AsyncIterator[str]:
    """A role of a unique name (the server's roles are shared by every database)."""
    role = f"piccolo_gen_role_{os.getpid()}_{Random().randrange(10**9)}"
    await pg_engine.execute(f'CREATE ROLE "{role}"')
    try:
        yield role
    finally:
        # Whatever a leaked SET ROLE made it own goes first (this database only).
        await pg_engine.execute(f'DROP OWNED BY "{role}"')
        await pg_engine.execute(f'DROP ROLE "{role}"')


#: Raw SQL that changes the session, each run by every raw path.
SESSION_CHANGES = {
    "set role": ['SET ROLE "{role}"'],
    "session authorization": ['SET SESSION AUTHORIZATION "{role}"'],
    "both": ['SET SESSION AUTHORIZATION "{role}"', "SET ROLE NONE"],
    "prepare": ["PREPARE piccolo_gen_prepared AS SELECT 1", 'PREPARE "odd ""name""" AS SELECT 2'],
    "temporary table": ["CREATE TEMP TABLE band (id integer, name text)"],
    "settings": [
        "SET search_path = pg_catalog",
        "SET application_name = 'leaked'",
        "SET statement_timeout = 1234",
        "SET piccolo_gen.custom = 'leaked'",
    ],
    "listen": ["LISTEN piccolo_gen_channel"],
    "advisory lock": ["SELECT pg_advisory_lock(4243)"],
    "cursor with hold": ["DECLARE piccolo_gen_held CURSOR WITH HOLD FOR SELECT 1"],
}


@pytest.mark.parametrize("change", sorted(SESSION_CHANGES))
async def test_raw_sql_leaves_nothing_for_the_next_user(
    start_pool: StartPool, roles: str, change: str
) -> None:
    engine = await start_pool(min_size=1, max_size=1)
    pid = await backend_pid(engine)
    if change in {"session authorization", "both"}:
        superuser = (
            await engine._fetch_built("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        )[0][0]
        if not superuser:
            pytest.skip("SET SESSION AUTHORIZATION needs a superuser test login")
    use_engine(engine, *music.TABLES)
    await drop_tables(*music.TABLES, if_exists=True)
    await create_tables(*music.TABLES)
    try:
        await Band.insert(Band(name="Pythonistas", popularity=1))
        baseline = list((await engine._fetch_built(FINGERPRINT))[0])
        statements = [sql.format(role=roles) for sql in SESSION_CHANGES[change]]

        async def in_transaction() -> None:
            async with engine.transaction():
                for sql in statements:
                    await engine.execute(sql)

        async def through_raw() -> None:
            for sql in statements:
                await Band.raw(sql).run()

        async def one_string() -> None:
            await engine.execute("; ".join(statements))

        async def fetched() -> None:
            for sql in statements:
                await engine.fetch(sql)

        for path in (in_transaction, through_raw, one_string, fetched):
            await path()
            # Built statements do not reset, so they see what the raw SQL left.
            assert list((await engine._fetch_built(FINGERPRINT))[0]) == baseline, path.__name__
            assert await Band.count() == 1, path.__name__  # not a temporary "band"
            assert await backend_pid(engine) == pid  # reset, not replaced
        # asyncpg's own prepared statements (its statement cache) survive the reset.
        cached = "SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql"
        assert (await engine._fetch_built(cached))[0][0] > 0
    finally:
        await drop_tables(*music.TABLES, if_exists=True)
        use_engine(None, *music.TABLES)


# -- sizes and refill ----------------------------------------------------------------


async def test_the_pool_refills_to_min_size_after_its_connections_die(
    start_pool: StartPool, pg_dsn: str, pg_engine: PostgresEngine
) -> None:
    name = app_name("refill")
    engine = await start_pool(min_size=3, max_size=5, server_settings={"application_name": name})
    old = {row["pid"] for row in await sessions(pg_dsn, name)}
    assert len(old) == 3
    await pg_engine.fetch(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        [name],
    )

    async def refilled() -> bool:
        pids = {row["pid"] for row in await sessions(pg_dsn, name)}
        return len(pids) == 3 and not pids & old

    await eventually(refilled)
    assert the_pool(engine).size == 3
    assert (await engine._fetch_built("SELECT 1"))[0][0] == 1


async def test_min_size_defaults_to_at_most_max_size(start_pool: StartPool, pg_dsn: str) -> None:
    name = app_name("sizes")
    engine = await start_pool(max_size=4, server_settings={"application_name": name})
    assert (the_pool(engine).min_size, the_pool(engine).max_size) == (4, 4)
    assert len(await sessions(pg_dsn, name)) == 4

    async def reset(conn: object) -> None:  # pragma: no cover - never called
        raise AssertionError

    async def connect() -> Any:  # pragma: no cover - never called
        raise AssertionError

    for max_size, expected in [(1, 1), (9, 9), (10, 10), (11, 10), (50, 10)]:
        assert Pool(connect, reset=reset, max_size=max_size).min_size == expected
    assert Pool(connect, reset=reset, min_size=0, max_size=3).min_size == 0
    with pytest.raises(ValueError, match=r"min_size \(5\) must not exceed max_size \(4\)"):
        Pool(connect, reset=reset, min_size=5, max_size=4)


# -- lost connections and server restarts ---------------------------------------------

#: What a query may raise while the server is down or restarting: an
#: OperationalError, from one of these driver and OS classes (the connection
#: was refused, reset or closed, or the server is shutting down or starting up).
CONNECTION_ERRORS = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    # asyncpg's client-side error on a connection the server closed
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


def is_connection_error(error: BaseException) -> bool:
    return isinstance(error, OperationalError) and isinstance(error.__cause__, CONNECTION_ERRORS)


async def test_a_statement_on_a_connection_the_server_closed_says_so(
    start_pool: StartPool, pg_engine: PostgresEngine
) -> None:
    engine = await start_pool(min_size=1, max_size=1)
    with pytest.raises(OperationalError, match="closed by the server") as caught:
        async with engine.transaction() as transaction:
            pid = await backend_pid(engine)
            await pg_engine.fetch("SELECT pg_terminate_backend($1)", [pid])
            conn = transaction._conn
            assert conn is not None
            await eventually(conn.is_closed)
            await engine._fetch_built("SELECT 1")
    # asyncpg said "cannot perform operation: connection is closed", which
    # reads like a misuse of the connection.
    assert isinstance(caught.value.__cause__, asyncpg.InterfaceError)
    assert await backend_pid(engine) != pid
    assert the_pool(engine).size == 1


async def op_built(engine: PostgresEngine) -> None:
    assert (await engine._fetch_built("SELECT 1"))[0][0] == 1


async def op_raw(engine: PostgresEngine) -> None:
    await engine.execute("SET application_name = 'changed'")


async def op_transaction(engine: PostgresEngine) -> None:
    async with engine.transaction():
        await engine._fetch_built("SELECT 1")
        await engine.fetch("SELECT 2")


async def op_batches(engine: PostgresEngine) -> None:
    async for _ in engine.batches("SELECT generate_series(1, 5)", [], 2):
        pass


async def op_timed_out(engine: PostgresEngine) -> None:
    try:
        await asyncio.wait_for(engine._fetch_built("SELECT pg_sleep(0.05)"), 0.02)
    except TimeoutError:
        pass  # the expected outcome, as a result


RESTART_OPERATIONS = [op_built, op_raw, op_transaction, op_batches, op_timed_out]


@pytest.mark.pg_cluster
async def test_a_server_restart_fails_queries_for_the_outage_only() -> None:
    # The shared server cannot be restarted: a throwaway cluster of our own.
    cluster = _pg.TempCluster()
    try:
        dsn = await asyncio.to_thread(cluster.start)
    except _pg.PgUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"cannot start a throwaway cluster: {error}", pytrace=False)
        pytest.skip(f"cannot start a throwaway cluster: {error}")
    name, max_size = "piccolo_gen_restart", 3
    engine = PostgresEngine(config={"dsn": dsn, "server_settings": {"application_name": name}})
    phase = "up"
    #: (phase when the operation started, operation, its error or None)
    outcomes: list[tuple[str, str, Exception | None]] = []
    stopping = asyncio.Event()

    async def worker(seed: int) -> None:
        random = Random(seed)
        while not stopping.is_set():
            started, operation = phase, random.choice(RESTART_OPERATIONS)
            try:
                await operation(engine)
            except Exception as error:
                outcomes.append((started, operation.__name__, error))
                await asyncio.sleep(0.01)  # no busy loop while the server is down
            else:
                outcomes.append((started, operation.__name__, None))

    def succeeded_since(since: str) -> bool:
        done = {name for started, name, error in outcomes if started == since and not error}
        return done == {operation.__name__ for operation in RESTART_OPERATIONS}

    try:
        await engine.start_connection_pool(min_size=2, max_size=max_size)
        async with SessionCounter(dsn, name) as counter:
            workers = [asyncio.create_task(worker(seed)) for seed in range(6)]
            await eventually(lambda: succeeded_since("up"), timeout=10)
            for cycle in (1, 2):
                phase = f"restart {cycle}"
                await asyncio.sleep(0.1)  # what started before has ended
                await asyncio.to_thread(cluster.stop_server)
                await asyncio.sleep(0.2)
                await asyncio.to_thread(cluster.start_server)
                phase = f"up {cycle}"
                await eventually(lambda since=phase: succeeded_since(since), timeout=10)
            stopping.set()
            await asyncio.gather(*workers)

            async def refilled() -> bool:
                count = len(await sessions(dsn, name))
                return count == the_pool(engine).size and count >= 2

            await eventually(refilled)
        assert counter.peak <= max_size
    finally:
        await engine.close()
        await asyncio.to_thread(cluster.stop)

    failures = [(started, op, error) for started, op, error in outcomes if error]
    assert failures, "the restarts went unnoticed"
    assert all(started.startswith("restart") for started, _, _ in failures), failures
    assert all(is_connection_error(error) for _, _, error in failures), failures
