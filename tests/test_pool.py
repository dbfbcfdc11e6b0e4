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
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import pytest

from generated.music import Band
from runtime import DataError, EngineError, PostgresEngine


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
    async with asyncio.timeout(5):
        assert await backend_pid(engine) != pid  # terminated, replaced
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
