"""The limit: the raw drivers (asyncpg, stdlib sqlite3) and hand-written SQL.

Rows become ``dict(record)`` (``dict(zip(names, row))`` for sqlite3 tuples)
or a plain ``__slots__`` class; nothing is checked or converted.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg

from bench.contenders.base import BandSlots, Contender, Params
from bench.database import Databases, new_band_values
from bench.harness import Work

SELECT_BANDS = "SELECT id, name, manager, popularity FROM band"
SELECT_BAND_BY_ID = "SELECT id, name, manager, popularity FROM band WHERE id = $1"
SELECT_NAMES = (
    'SELECT band.name AS name, manager.name AS "manager.name"'
    " FROM band LEFT JOIN manager ON band.manager = manager.id"
)
INSERT_BAND = "INSERT INTO band (name, manager, popularity) VALUES ($1, $2, $3)"


async def _no_rows(sql: str, params: list[object], convert: Any) -> Any:
    """A driver that returns no rows, as cheap as a coroutine can be."""
    return convert([])


class RawLimit(Contender):
    name = "raw driver (the limit)"
    kind = "limit"
    notes = {
        "W3": "asyncpg fetchrow on one held connection",
        "W4": "asyncpg executemany (no ids returned)",
        "B1": "asyncpg copy_records_to_table (COPY, binary)",
        "W5f": "the floor of any awaited run: an async def given (sql, params, convert),"
        " returning convert([]), awaited",
    }

    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        self.conn: Any = None
        self.lite: sqlite3.Connection | None = None

    async def start(self, db: Databases, engine: str, params: Params) -> None:
        if engine == "pg":
            self.pool = await asyncpg.create_pool(db.pg_dsn, min_size=2, max_size=4)
            self.conn = await asyncpg.connect(db.pg_dsn)
        else:
            self.lite = sqlite3.connect(db.sqlite_path, isolation_level=None)

    async def stop(self, engine: str) -> None:
        if engine == "pg":
            await self.conn.close()
            await self.pool.close()
        elif self.lite is not None:
            self.lite.close()

    def workloads(self, engine: str, params: Params) -> dict[str, Work]:
        if engine == "sqlite":
            return self._sqlite()
        pool, conn = self.pool, self.conn
        assert pool is not None
        ids = params.w3_ids()
        values = new_band_values(params.w4_rows)

        async def w1() -> list[dict[str, Any]]:
            return [dict(r) for r in await pool.fetch(SELECT_BANDS)]

        async def w2() -> list[BandSlots]:
            return [BandSlots(*r) for r in await pool.fetch(SELECT_BANDS)]

        async def w3() -> int:
            fetchrow = conn.fetchrow
            for i in ids:
                BandSlots(*await fetchrow(SELECT_BAND_BY_ID, i))
            return len(ids)

        async def w4() -> None:
            await pool.executemany(INSERT_BAND, values)

        load = new_band_values(params.b1_rows)

        async def b1() -> int:
            await pool.copy_records_to_table(
                "band", records=load, columns=["name", "manager", "popularity"]
            )
            return len(load)

        async def w6() -> list[dict[str, Any]]:
            return [dict(r) for r in await pool.fetch(SELECT_NAMES)]

        iterations = params.w5_iterations

        async def w5f() -> int:
            # What a frozen query's run cannot go below in Python: one
            # coroutine made, awaited, converting an empty result.
            for _ in range(iterations):
                await _no_rows(SELECT_BAND_BY_ID, [], list)
            return iterations

        return {
            "W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5f": w5f, "W6": w6, "B1": b1, "M1": w2,
        }  # fmt: skip

    def _sqlite(self) -> dict[str, Work]:
        lite = self.lite
        assert lite is not None
        sql = SELECT_BANDS

        def w1() -> list[dict[str, Any]]:
            cursor = lite.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

        def w2() -> list[BandSlots]:
            return [BandSlots(*row) for row in lite.execute(sql).fetchall()]

        return {"W1": w1, "W2": w2}


class RawPool(Contender):
    """The raw driver used the way piccolo-gen uses it, to split the ratios."""

    name = "raw driver, pool + RETURNING"
    kind = "limit"
    notes = {
        "W3": "asyncpg pool.fetchrow (acquire/release per query)",
        "W4": "one INSERT ... VALUES (...), ... RETURNING id, ids returned",
    }

    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None

    async def start(self, db: Databases, engine: str, params: Params) -> None:
        if engine == "pg":
            self.pool = await asyncpg.create_pool(db.pg_dsn, min_size=2, max_size=4)

    async def stop(self, engine: str) -> None:
        if engine == "pg" and self.pool is not None:
            await self.pool.close()

    def workloads(self, engine: str, params: Params) -> dict[str, Work]:
        if engine != "pg":
            return {}
        pool = self.pool
        assert pool is not None
        ids = params.w3_ids()
        values = new_band_values(params.w4_rows)

        async def w3() -> int:
            for i in ids:
                BandSlots(*await pool.fetchrow(SELECT_BAND_BY_ID, i))
            return len(ids)

        async def w4() -> list[int]:
            marks = ", ".join(
                f"(${3 * i + 1}, ${3 * i + 2}, ${3 * i + 3})" for i in range(len(values))
            )
            flat = [v for row in values for v in row]
            sql = f"INSERT INTO band (name, manager, popularity) VALUES {marks} RETURNING id"
            return [r[0] for r in await pool.fetch(sql, *flat)]

        return {"W3": w3, "W4": w4}
