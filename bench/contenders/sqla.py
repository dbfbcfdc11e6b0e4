"""SQLAlchemy 2.1: the async ORM and async Core (asyncpg / aiosqlite drivers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bench.contenders.base import W5_LIMIT, W5_MANAGER, W5_POPULARITY, Contender, Params
from bench.database import Databases, new_band_values
from bench.harness import Work


class Base(DeclarativeBase):
    pass


class Manager(Base):
    __tablename__ = "manager"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), default="")


class Band(Base):
    __tablename__ = "band"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), default="")
    manager_id: Mapped[int | None] = mapped_column("manager", ForeignKey("manager.id"))
    popularity: Mapped[int] = mapped_column(default=0)


band = Band.__table__
manager = Manager.__table__
PG_DIALECT = postgresql.asyncpg.dialect()  # type: ignore[attr-defined]


class _SQLAlchemy(Contender):
    def __init__(self) -> None:
        self.engines: dict[str, AsyncEngine] = {}

    async def start(self, db: Databases, engine: str, params: Params) -> None:
        if engine == "pg":
            url = db.url("postgresql+asyncpg")
            self.engines["pg"] = create_async_engine(url, pool_size=4)
        else:
            self.engines["sqlite"] = create_async_engine(f"sqlite+aiosqlite:///{db.sqlite_path}")

    async def stop(self, engine: str) -> None:
        await self.engines.pop(engine).dispose()


class SQLAlchemyORM(_SQLAlchemy):
    name = "SQLAlchemy 2.1 ORM"
    notes = {
        "W1": "not an ORM workload (see Core)",
        "W3": "session.get(Band, i), one session per repetition",
        "W4": "session.add_all() + commit (insertmanyvalues, ids returned)",
        "W5": "build + compile(dialect) of an ORM select",
        "W6": "select(Band.name, Manager.name) outer join, .mappings().all()",
    }

    def workloads(self, engine: str, params: Params) -> dict[str, Work]:
        eng = self.engines[engine]

        async def w2() -> list[Any]:
            async with AsyncSession(eng, expire_on_commit=False) as session:
                return list((await session.scalars(select(Band))).all())

        if engine == "sqlite":
            return {"W2": w2}

        ids = params.w3_ids()
        values = new_band_values(params.w4_rows)
        iterations = params.w5_peer_iterations

        def query() -> Any:
            return (
                select(Band.name, Manager.name)
                .outerjoin(Manager, Band.manager_id == Manager.id)
                .where(Band.popularity > W5_POPULARITY, Manager.name == W5_MANAGER)
                .order_by(Band.name)
                .limit(W5_LIMIT)
            )

        async def w3() -> int:
            async with AsyncSession(eng) as session:
                for i in ids:
                    await session.get(Band, i)
            return len(ids)

        async def w4() -> list[int]:
            rows = [Band(name=n, manager_id=m, popularity=p) for n, m, p in values]
            async with AsyncSession(eng, expire_on_commit=False) as session:
                session.add_all(rows)
                await session.commit()
            return [row.id for row in rows]

        def w5() -> int:
            for _ in range(iterations):
                query().compile(dialect=PG_DIALECT)
            return iterations

        async def w6() -> list[Any]:
            stmt = select(Band.name, Manager.name.label("manager.name")).outerjoin(
                Manager, Band.manager_id == Manager.id
            )
            async with AsyncSession(eng) as session:
                return list((await session.execute(stmt)).mappings().all())

        return {"W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "M1": w2}


class SQLAlchemyCore(_SQLAlchemy):
    name = "SQLAlchemy 2.1 Core"
    notes = {
        "W1": "conn.execute(select(band)).mappings().all() (RowMapping, not dict)",
        "W3": "conn.execute(select(band).where(id == i)) on one held connection",
        "W4": "conn.execute(insert().returning(id), [dicts]) (insertmanyvalues)",
        "B1": "conn.execute(insert(), [dicts]) in conn.begin() (executemany)",
        "W5": "build + compile(dialect)",
        "W5f": "cache key of a prebuilt statement (what a run computes before its compiled-cache lookup)",
    }

    def workloads(self, engine: str, params: Params) -> dict[str, Work]:
        eng = self.engines[engine]

        async def w1() -> list[Any]:
            async with eng.connect() as conn:
                return list((await conn.execute(select(band))).mappings().all())

        if engine == "sqlite":
            return {"W1": w1}

        ids = params.w3_ids()
        values = [
            {"name": n, "manager": m, "popularity": p}
            for n, m, p in new_band_values(params.w4_rows)
        ]
        iterations = params.w5_peer_iterations

        def query() -> Any:
            return (
                select(band.c.name, manager.c.name)
                .select_from(band.outerjoin(manager, band.c.manager == manager.c.id))
                .where(band.c.popularity > W5_POPULARITY, manager.c.name == W5_MANAGER)
                .order_by(band.c.name)
                .limit(W5_LIMIT)
            )

        prebuilt = query()

        async def w3() -> int:
            async with eng.connect() as conn:
                for i in ids:
                    (await conn.execute(select(band).where(band.c.id == i))).mappings().one()
            return len(ids)

        async def w4() -> list[int]:
            async with eng.begin() as conn:
                result = await conn.execute(insert(band).returning(band.c.id), values)
                return list(result.scalars().all())

        def w5() -> int:
            for _ in range(iterations):
                query().compile(dialect=PG_DIALECT)
            return iterations

        def w5f() -> int:
            for _ in range(iterations):
                prebuilt._generate_cache_key()
            return iterations

        async def w6() -> list[Any]:
            stmt = select(band.c.name, manager.c.name.label("manager.name")).select_from(
                band.outerjoin(manager, band.c.manager == manager.c.id)
            )
            async with eng.connect() as conn:
                return list((await conn.execute(stmt)).mappings().all())

        load = [
            {"name": n, "manager": m, "popularity": p}
            for n, m, p in new_band_values(params.b1_rows)
        ]

        async def b1() -> int:
            async with eng.begin() as conn:
                await conn.execute(insert(band), load)
            return len(load)

        return {"W1": w1, "W3": w3, "W4": w4, "W5": w5, "W5f": w5f, "W6": w6, "B1": b1}
