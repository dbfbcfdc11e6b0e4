"""SQLite locking: transactions of several processes on one file, at the
engine's default settings.

A deferred transaction that reads and then writes cannot wait for the write
lock (SQLite returns SQLITE_BUSY at once rather than risk a deadlock), so
with ``BEGIN DEFERRED`` some read-modify-write transactions failed with
"database is locked" whatever the busy timeout; transactions now begin
immediate, and wait for the lock without blocking the event loop.

``PICCOLO_GEN_SQLITE_PROCESS_TRANSACTIONS`` sets the transactions per
process (default 300: 4 x 300 = 1,200, a few seconds).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sqlite3
from pathlib import Path
from typing import Any

from runtime import SQLiteEngine

PROCESSES = 4
TRANSACTIONS = int(os.environ.get("PICCOLO_GEN_SQLITE_PROCESS_TRANSACTIONS", "300"))


def read_modify_write(path: str, count: int, barrier: Any) -> tuple[int, str]:
    """Run ``count`` transactions that read the counter and write it + 1;
    give the number that failed and the first error."""

    async def main() -> tuple[int, str]:
        engine = SQLiteEngine(path)  # default settings
        failed, first = 0, ""
        barrier.wait()  # every process starts at once
        for _ in range(count):
            try:
                async with engine.transaction():
                    rows = await engine.fetch("SELECT value FROM counter WHERE id = 1")
                    await engine.execute(
                        "UPDATE counter SET value = ? WHERE id = 1", [rows[0][0] + 1]
                    )
            except Exception as error:  # any error is a lost transaction
                failed += 1
                first = first or repr(error)
        await engine.close()
        return failed, first

    return asyncio.run(main())


def test_processes_read_modify_write_one_file_without_lock_errors(tmp_path: Path) -> None:
    path = str(tmp_path / "counter.sqlite")

    async def setup() -> int:
        engine = SQLiteEngine(path)
        await engine.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)")
        await engine.execute("INSERT INTO counter VALUES (1, 0)")
        await engine.close()
        return 0

    asyncio.run(setup())
    # spawn: a fresh interpreter per process, nothing inherited from pytest's.
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(PROCESSES) as pool:
        barrier = manager.Barrier(PROCESSES)
        results = pool.starmap(
            read_modify_write, [(path, TRANSACTIONS, barrier)] * PROCESSES, chunksize=1
        )

    async def final() -> int:
        engine = SQLiteEngine(path)
        rows = await engine.fetch("SELECT value FROM counter WHERE id = 1")
        await engine.close()
        value: int = rows[0][0]
        return value

    assert [failed for failed, _ in results] == [0] * PROCESSES, results
    assert asyncio.run(final()) == PROCESSES * TRANSACTIONS


async def test_a_transaction_waits_for_another_connections_write_lock_without_blocking(
    sqlite_engine: SQLiteEngine,
) -> None:
    engine = sqlite_engine
    await engine.execute("CREATE TABLE item (id INTEGER PRIMARY KEY)")
    other = sqlite3.connect(engine.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process's writer, say

        async def write() -> None:
            async with engine.transaction():
                await engine.execute("INSERT INTO item VALUES (1)")

        task = asyncio.ensure_future(write())
        for _ in range(5):
            await asyncio.sleep(0.01)  # the loop runs while the task waits
        assert not task.done()
        other.execute("INSERT INTO item VALUES (2)")
        other.execute("COMMIT")
        await task
    finally:
        other.close()
    assert await engine.fetch("SELECT id FROM item ORDER BY id") == [(1,), (2,)]


async def test_a_commit_waits_for_a_reader_without_blocking(sqlite_engine: SQLiteEngine) -> None:
    # Rollback-journal mode (the default): COMMIT needs every reader gone.
    engine = sqlite_engine
    await engine.execute("CREATE TABLE item (id INTEGER PRIMARY KEY)")
    other = sqlite3.connect(engine.path, isolation_level=None)
    try:
        other.execute("BEGIN")
        assert other.execute("SELECT count(*) FROM item").fetchone() == (0,)  # a read lock

        async def write() -> None:
            async with engine.transaction():
                await engine.execute("INSERT INTO item VALUES (1)")

        task = asyncio.ensure_future(write())
        for _ in range(5):
            await asyncio.sleep(0.01)
        assert not task.done()
        other.execute("COMMIT")
        await task
    finally:
        other.close()
    assert await engine.fetch("SELECT id FROM item") == [(1,)]
