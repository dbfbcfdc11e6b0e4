"""``python -m bench.faults``: the fault figures, counted on the real databases.

The tests assert that each of these is zero (tests/test_pool.py,
tests/test_objects_writes.py, tests/test_sqlite_locking.py); this prints the
counts themselves, so a change can be compared with another checkout by
running the same command in each:

- PostgreSQL, a pool of 10: 40 ``SELECT pg_sleep(30)`` cancelled by
  ``asyncio.wait_for(..., 0.2)``; how many still run on the server a second
  later, and the most server sessions seen meanwhile;
- 40 UPDATEs blocked on a row lock and timed out; how many committed once
  the lock was released;
- 5 keys x 20 concurrent ``get_or_create`` through a pool of 4: how many
  calls raised, and how many rows exist afterwards;
- SQLite: 4 processes x N read-modify-write transactions on one file at the
  default settings (``--sqlite-transactions N``, 300 by default): how many
  failed, the final counter, and the time taken.

PostgreSQL is found or started as the tests do it (``PICCOLO_GEN_TEST_PG``,
else 127.0.0.1:5432, else a throwaway cluster).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from generated import music
from generated.music import Band
from runtime import PostgresEngine, SQLiteEngine, create_tables, drop_tables, use_engine
from tests import _pg

DATABASE = "piccolo_gen_faults"
APP = "piccolo_gen_faults"


async def _sessions(dsn: str, *, busy: bool = False) -> int:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(dsn)
    try:
        sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
        if busy:
            sql += " AND state = 'active' AND query LIKE '%pg_sleep%'"
        count: int = await conn.fetchval(sql, APP)
        return count
    finally:
        await conn.close()


async def cancellation(dsn: str) -> dict[str, int]:
    engine = PostgresEngine(config={"dsn": dsn, "server_settings": {"application_name": APP}})
    await engine.start_connection_pool(min_size=10, max_size=10)
    peak = 0
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, await _sessions(dsn))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    try:
        await asyncio.gather(
            *(asyncio.wait_for(engine.fetch("SELECT pg_sleep(30)"), 0.2) for _ in range(40)),
            return_exceptions=True,
        )
        await asyncio.sleep(1)
        still_sleeping = await _sessions(dsn, busy=True)

        await engine.execute("DROP TABLE IF EXISTS faults_counter")
        await engine.execute("CREATE TABLE faults_counter (id integer PRIMARY KEY, n integer)")
        await engine.execute("INSERT INTO faults_counter VALUES (1, 0)")
        import asyncpg

        holder = await asyncpg.connect(dsn)
        try:
            lock = holder.transaction()
            await lock.start()
            await holder.execute("SELECT * FROM faults_counter WHERE id = 1 FOR UPDATE")
            await asyncio.gather(
                *(
                    asyncio.wait_for(
                        engine.execute("UPDATE faults_counter SET n = n + 1 WHERE id = 1"), 0.2
                    )
                    for _ in range(40)
                ),
                return_exceptions=True,
            )
            await lock.rollback()
            await asyncio.sleep(1)
            committed = await holder.fetchval("SELECT n FROM faults_counter WHERE id = 1")
            await holder.execute("DROP TABLE faults_counter")
        finally:
            await holder.close()
    finally:
        stop.set()
        await sampler
        await engine.close()
    return {
        "cancelled pg_sleep still running": still_sleeping,
        "peak server sessions (pool max_size 10)": peak,
        "timed-out UPDATEs committed (of 40)": committed,
    }


async def get_or_create(dsn: str) -> dict[str, int]:
    engine = PostgresEngine(config={"dsn": dsn})
    use_engine(engine, *music.TABLES)
    await drop_tables(*music.TABLES, if_exists=True)
    await create_tables(*music.TABLES)
    await engine.start_connection_pool(min_size=2, max_size=4)
    failed = 0
    try:
        for key in range(5):
            results = await asyncio.gather(
                *(Band.objects().get_or_create(Band.name == f"key {key}") for _ in range(20)),
                return_exceptions=True,
            )
            failed += sum(isinstance(result, BaseException) for result in results)
        rows = await Band.count()
        await drop_tables(*music.TABLES, if_exists=True)
    finally:
        await engine.close()
    return {"get_or_create calls that raised (of 100)": failed, "rows (of 5 keys)": rows}


def _sqlite_worker(path: str, count: int, barrier: Any) -> int:
    async def main() -> int:
        engine = SQLiteEngine(path)
        failed = 0
        barrier.wait()
        for _ in range(count):
            try:
                async with engine.transaction():
                    rows = await engine.fetch("SELECT value FROM counter WHERE id = 1")
                    await engine.execute(
                        "UPDATE counter SET value = ? WHERE id = 1", [rows[0][0] + 1]
                    )
            except Exception:
                failed += 1
        await engine.close()
        return failed

    return asyncio.run(main())


def sqlite_processes(transactions: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "counter.sqlite")
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)")
        conn.execute("INSERT INTO counter VALUES (1, 0)")
        conn.close()
        context = multiprocessing.get_context("spawn")
        started = time.perf_counter()
        with context.Manager() as manager, context.Pool(4) as pool:
            barrier = manager.Barrier(4)
            failed = pool.starmap(_sqlite_worker, [(path, transactions, barrier)] * 4)
        elapsed = time.perf_counter() - started
        conn = sqlite3.connect(path)
        final = conn.execute("SELECT value FROM counter").fetchone()[0]
        conn.close()
    return {
        f"failed transactions (of {4 * transactions})": sum(failed),
        "final counter": final,
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--sqlite-transactions", type=int, default=300)
    args = parser.parse_args()
    server = _pg.find_server()
    try:
        _pg.create_database(server.dsn, DATABASE)
        dsn = _pg.with_database(server.dsn, DATABASE)
        figures: dict[str, float] = {}
        figures.update(asyncio.run(cancellation(dsn)))
        figures.update(asyncio.run(get_or_create(dsn)))
        figures.update(sqlite_processes(args.sqlite_transactions))
        _pg.drop_database(server.dsn, DATABASE)
    finally:
        server.stop()
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
