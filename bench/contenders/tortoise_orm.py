"""Tortoise ORM 1.1 (asyncpg / aiosqlite backends)."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise

from bench.contenders import _tortoise_models as models
from bench.contenders.base import W5_LIMIT, W5_MANAGER, W5_POPULARITY, Contender, Params
from bench.database import Databases, new_band_values
from bench.harness import Work


class TortoiseORM(Contender):
    name = "Tortoise ORM 1.1"
    notes = {
        "W3": "Band.get(id=i)",
        "W4": "Band.bulk_create(rows): ids are NOT returned",
        "B1": "Band.bulk_create(rows)",
        "W5": "build + .sql()",
    }

    async def start(self, db: Databases, engine: str, params: Params) -> None:
        if engine == "pg":
            url = db.url("asyncpg") + "?minsize=2&maxsize=4"
        else:
            url = f"sqlite://{db.sqlite_path}"
        await Tortoise.init(
            db_url=url, modules={"models": [models.__name__]}, _enable_global_fallback=True
        )

    async def stop(self, engine: str) -> None:
        await Tortoise.close_connections()

    def workloads(self, engine: str, params: Params) -> dict[str, Work]:
        Band = models.Band

        async def w1() -> list[Any]:
            return await Band.all().values()

        async def w2() -> list[Any]:
            return await Band.all()

        if engine == "sqlite":
            return {"W1": w1, "W2": w2}

        ids = params.w3_ids()
        values = new_band_values(params.w4_rows)
        iterations = params.w5_peer_iterations

        def query() -> Any:
            return (
                Band.filter(popularity__gt=W5_POPULARITY, manager__name=W5_MANAGER)
                .order_by("name")
                .limit(W5_LIMIT)
                .values("name", "manager__name")
            )

        async def w3() -> int:
            for i in ids:
                await Band.get(id=i)
            return len(ids)

        async def w4() -> list[Any]:
            rows = [Band(name=n, manager_id=m, popularity=p) for n, m, p in values]
            await Band.bulk_create(rows)
            return [row.pk for row in rows]

        def w5() -> int:
            for _ in range(iterations):
                query().sql()
            return iterations

        async def w6() -> list[Any]:
            return await Band.all().values("name", "manager__name")

        load = new_band_values(params.b1_rows)

        async def b1() -> int:
            rows = [Band(name=n, manager_id=m, popularity=p) for n, m, p in load]
            await Band.bulk_create(rows)
            return len(rows)

        return {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "B1": b1, "M1": w2}
