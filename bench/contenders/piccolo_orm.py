"""Piccolo ORM 1.38 (the model piccolo-gen follows), with its own engines."""

from __future__ import annotations

from typing import Any

from piccolo.columns import ForeignKey, Integer, Varchar
from piccolo.columns.base import OnDelete
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from bench.contenders.base import W5_LIMIT, W5_MANAGER, W5_POPULARITY, Contender, Params
from bench.database import Databases, new_band_values
from bench.harness import Work


def make_tables(db: Any) -> tuple[type[Table], type[Table]]:
    class Manager(Table, tablename="manager", db=db):
        name = Varchar(length=50)

    class Band(Table, tablename="band", db=db):
        name = Varchar(length=50)
        manager = ForeignKey(references=Manager, null=True, on_delete=OnDelete.set_null)
        popularity = Integer(default=0)

    return Manager, Band


def w5_query(Band: Any) -> Any:
    return (
        Band.select(Band.name, Band.manager.name)
        .where((Band.popularity > W5_POPULARITY) & (Band.manager.name == W5_MANAGER))
        .order_by(Band.name)
        .limit(W5_LIMIT)
    )


class PiccoloORM(Contender):
    name = "Piccolo 1.38"
    notes = {
        "W3": "Band.objects().get(Band.id == i) through the pool",
        "W4": "Band.insert(*rows) (returns [{'id': ...}])",
        "B1": "Band.insert(*rows) per 10,000 rows, in one transaction",
        "W5": "build + querystrings[0].compile_string('postgres')",
        "W5f": "frozen: querystrings[0].compile_string('postgres')",
    }

    def __init__(self) -> None:
        self.engines: dict[str, Any] = {}
        self.tables: dict[str, Any] = {}

    async def start(self, db: Databases, engine: str, params: Params) -> None:
        if engine == "pg":
            parts = {k: v for k, v in db.pg_parts.items() if v is not None}
            pg = PostgresEngine(config=parts, log_queries=False)
            await pg.start_connection_pool(min_size=2, max_size=4)
            self.engines["pg"] = pg
        else:
            self.engines["sqlite"] = SQLiteEngine(path=str(db.sqlite_path))
        self.tables[engine] = make_tables(self.engines[engine])

    async def stop(self, engine: str) -> None:
        db = self.engines.pop(engine)
        if engine == "pg":
            await db.close_connection_pool()

    def workloads(self, engine: str, params: Params) -> dict[str, Work]:
        _, Band = self.tables[engine]

        async def w1() -> list[Any]:
            return await Band.select()

        async def w2() -> list[Any]:
            return await Band.objects()

        if engine == "sqlite":
            return {"W1": w1, "W2": w2}

        ids = params.w3_ids()
        values = new_band_values(params.w4_rows)
        iterations = params.w5_peer_iterations
        frozen = w5_query(Band).freeze()

        async def w3() -> int:
            for i in ids:
                await Band.objects().get(Band.id == i)
            return len(ids)

        async def w4() -> list[int]:
            rows = [Band(name=n, manager=m, popularity=p) for n, m, p in values]
            return [r["id"] for r in await Band.insert(*rows)]

        def w5() -> int:
            for _ in range(iterations):
                w5_query(Band).querystrings[0].compile_string(engine_type="postgres")
            return iterations

        def w5f() -> int:
            for _ in range(iterations):
                frozen.query.querystrings[0].compile_string(engine_type="postgres")
            return iterations

        async def w6() -> list[Any]:
            return await Band.select(Band.name, Band.manager.name)

        load = new_band_values(params.b1_rows)

        async def b1() -> int:
            rows = [Band(name=n, manager=m, popularity=p) for n, m, p in load]
            # One INSERT per 10,000 rows (30,000 parameters; asyncpg takes
            # at most 32,767), in one transaction.
            async with Band._meta.db.transaction():
                for start in range(0, len(rows), 10_000):
                    await Band.insert(*rows[start : start + 10_000])
            return len(rows)

        return {
            "W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W5f": w5f, "W6": w6, "B1": b1,
            "M1": w2,
        }  # fmt: skip
