"""Scale-out benchmarks: ``python -m bench.scaleout`` (on demand, not in the test run).

B2, throughput under concurrency: ``--tasks`` tasks (200) share a pool of
``--pool`` connections (10) for ``--seconds`` (20); each task loops over a
mix of by-key reads (4 in 5: one band by its primary key, as an object) and
small write transactions (1 in 5: ``BEGIN; UPDATE band SET popularity =
popularity + 1 WHERE id = $1; COMMIT``). The figure is operations per second,
for raw asyncpg with ``asyncpg.Pool`` (the limit), piccolo-gen, Piccolo,
SQLAlchemy and Tortoise, one after the other on the same database. Target:
piccolo-gen >= 0.9x raw asyncpg and ahead of every peer.

B3, objects with three foreign keys prefetched: 10,000 ``Gig`` rows, each
with its headliner and support band and its manager loaded by the same
query (``Gig.objects(Gig.headliner, Gig.support, Gig.manager)``), against the
same SQL run on a held asyncpg connection with hand-written construction of
plain ``__slots__`` objects. Target: <= 1.3x.

``--pgbouncer`` runs B2 a second time through a PgBouncer in transaction
pooling mode started in front of the server (tests/_pgbouncer.py; Debian's
package, installed when absent and running as root), every contender set up
as its documentation says for transaction pooling: asyncpg, Piccolo and
Tortoise with ``statement_cache_size=0``, SQLAlchemy with its prepared
statement cache off and unique statement names, piccolo-gen with
``pooler="transaction"``. A measurement that fails prints "failed" and why,
never a figure or "met".
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.contenders.gen import load_models
from bench.database import open_databases

READ_SHARE = 0.8
B3_ROWS = 10_000
B2_TARGET = 0.9
B3_TARGET = 1.3

#: One operation of B2: ``op(key, write)``.
Op = Callable[[int, bool], Awaitable[object]]
#: name -> async factory (dsn, pool size, behind a transaction pooler) -> (op, close)
Setup = Callable[[str, int, bool], Awaitable[tuple[Op, Callable[[], Awaitable[None]]]]]

#: asyncpg's setting for a transaction pooler: no named prepared statements.
NO_STATEMENT_CACHE = {"statement_cache_size": 0}

SELECT_BAND = "SELECT id, name, manager, popularity FROM band WHERE id = $1"
UPDATE_BAND = "UPDATE band SET popularity = popularity + 1 WHERE id = $1"


# -- B2 contenders ----------------------------------------------------------------


async def _raw(dsn: str, size: int, pooled: bool) -> tuple[Op, Any]:
    import asyncpg  # type: ignore[import-untyped]

    kwargs = NO_STATEMENT_CACHE if pooled else {}
    pool = await asyncpg.create_pool(dsn, min_size=size, max_size=size, **kwargs)

    async def op(key: int, write: bool) -> object:
        async with pool.acquire() as conn:
            if write:
                async with conn.transaction():
                    return await conn.execute(UPDATE_BAND, key)
            return await conn.fetchrow(SELECT_BAND, key)

    return op, pool.close


async def _gen(dsn: str, size: int, pooled: bool) -> tuple[Op, Any]:
    from runtime import PostgresEngine, use_engine

    models = load_models()
    Band = models.Band
    engine = PostgresEngine(config={"dsn": dsn}, pooler="transaction" if pooled else None)
    use_engine(engine, *models.TABLES)
    await engine.start_connection_pool(min_size=size, max_size=size)

    async def op(key: int, write: bool) -> object:
        if write:
            async with engine.transaction():
                return await Band.update({Band.popularity: Band.popularity + 1}).where(
                    Band.id == key
                )
        return await Band.objects().get(Band.id == key)

    return op, engine.close


async def _piccolo(dsn: str, size: int, pooled: bool) -> tuple[Op, Any]:
    from piccolo.engine.postgres import PostgresEngine

    from bench.contenders.piccolo_orm import make_tables

    kwargs = NO_STATEMENT_CACHE if pooled else {}
    engine = PostgresEngine(config={"dsn": dsn, **kwargs}, log_queries=False)
    await engine.start_connection_pool(min_size=size, max_size=size)
    _, Band = make_tables(engine)

    async def op(key: int, write: bool) -> object:
        if write:
            async with engine.transaction():
                return await Band.update({Band.popularity: Band.popularity + 1}).where(
                    Band.id == key
                )
        return await Band.objects().get(Band.id == key)

    return op, engine.close_connection_pool


async def _sqlalchemy(dsn: str, size: int, pooled: bool) -> tuple[Op, Any]:
    from uuid import uuid4

    from sqlalchemy import update
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from bench.contenders.sqla import Band

    url = "postgresql+asyncpg://" + dsn.split("://", 1)[1]
    connect_args: dict[str, Any] = {}
    if pooled:
        # SQLAlchemy's asyncpg dialect documents this for PgBouncer: its own
        # statement cache off, and statement names unique across clients.
        url += "?prepared_statement_cache_size=0"
        connect_args = {
            **NO_STATEMENT_CACHE,
            "prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__",
        }
    engine = create_async_engine(url, pool_size=size, max_overflow=0, connect_args=connect_args)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def op(key: int, write: bool) -> object:
        if write:
            async with sessions.begin() as session:
                statement = update(Band).where(Band.id == key)
                return await session.execute(statement.values(popularity=Band.popularity + 1))
        async with sessions() as session:
            return await session.get(Band, key)

    return op, engine.dispose


async def _tortoise(dsn: str, size: int, pooled: bool) -> tuple[Op, Any]:
    from tortoise import Tortoise
    from tortoise.expressions import F
    from tortoise.transactions import in_transaction

    from bench.contenders import _tortoise_models as models

    url = "asyncpg://" + dsn.split("://", 1)[1] + f"?minsize={size}&maxsize={size}"
    if pooled:
        url += "&statement_cache_size=0"
    await Tortoise.init(
        db_url=url, modules={"models": [models.__name__]}, _enable_global_fallback=True
    )
    Band = models.Band

    async def op(key: int, write: bool) -> object:
        if write:
            async with in_transaction():
                return await Band.filter(id=key).update(popularity=F("popularity") + 1)
        return await Band.get(id=key)

    return op, Tortoise.close_connections


B2_CONTENDERS: dict[str, Setup] = {
    "raw asyncpg (asyncpg.Pool)": _raw,
    "piccolo-gen": _gen,
    "Piccolo": _piccolo,
    "SQLAlchemy": _sqlalchemy,
    "Tortoise": _tortoise,
}


async def _drive(op: Op, tasks: int, seconds: float, rows: int) -> int:
    """Operations completed by ``tasks`` tasks in ``seconds``."""
    deadline = time.monotonic() + seconds
    done = [0] * tasks

    async def loop(i: int) -> None:
        rng = random.Random(i)
        while time.monotonic() < deadline:
            await op(rng.randint(1, rows), rng.random() >= READ_SHARE)
            done[i] += 1

    await asyncio.gather(*(loop(i) for i in range(tasks)))
    return sum(done)


async def b2(
    dsn: str,
    *,
    rows: int,
    tasks: int = 200,
    pool: int = 10,
    seconds: float = 20.0,
    pooled: bool = False,
    contenders: dict[str, Setup] | None = None,
) -> dict[str, float | str]:
    """B2 on ``dsn``: ops/s per contender, or the reason it failed
    (``pooled``: ``dsn`` is a transaction pooler's)."""
    results: dict[str, float | str] = {}
    for name, setup in (contenders or B2_CONTENDERS).items():
        try:
            op, close = await setup(dsn, pool, pooled)
            try:
                await _drive(op, tasks, min(1.0, seconds), rows)  # warm up
                started = time.perf_counter()
                count = await _drive(op, tasks, seconds, rows)
                results[name] = count / (time.perf_counter() - started)
            finally:
                await close()
        except Exception as error:  # a contender that cannot run says why
            results[name] = f"failed: {type(error).__name__}: {error}"
    return results


# -- B3 -----------------------------------------------------------------------------


class _BandObj:
    __slots__ = ("id", "name", "manager", "popularity")


class _ManagerObj:
    __slots__ = ("id", "name")


class _GigObj:
    __slots__ = ("id", "headliner", "support", "manager", "fee")


async def _seed_gigs(dsn: str, bands: int) -> Any:
    from runtime import PostgresEngine, create_tables, drop_tables, use_engine

    models = load_models()
    engine = PostgresEngine(config={"dsn": dsn})
    use_engine(engine, *models.TABLES)
    Gig = models.Gig
    await drop_tables(Gig, if_exists=True)
    await create_tables(Gig)
    rng = random.Random(3)
    await engine.executemany(
        "INSERT INTO gig (headliner, support, manager, fee) VALUES ($1, $2, $3, $4)",
        [
            (rng.randint(1, bands), rng.randint(1, bands), rng.randint(1, 10), i)
            for i in range(B3_ROWS)
        ],
    )
    return engine, models


async def b3(dsn: str, *, rows: int, repeats: int = 7) -> dict[str, float | str]:
    """B3: median seconds of piccolo-gen's prefetch and of the hand-written limit."""
    import asyncpg

    from runtime._dialect import POSTGRES

    engine, models = await _seed_gigs(dsn, rows)
    Gig = models.Gig
    query = Gig.objects(Gig.headliner, Gig.support, Gig.manager)
    sql, params = query._sql(POSTGRES)
    conn = await asyncpg.connect(dsn)
    await engine.start_connection_pool(min_size=1, max_size=1)
    # Column positions of the joined select: the gig's, then each target's.
    width_band, width_manager = 4, 2

    def construct(records: list[Any]) -> list[_GigObj]:
        out = []
        for r in records:
            gig = _GigObj()
            gig.id, gig.fee = r[0], r[4]
            b = _BandObj()
            b.id, b.name, b.manager, b.popularity = r[5], r[6], r[7], r[8]
            s = _BandObj()
            s.id, s.name, s.manager, s.popularity = r[9], r[10], r[11], r[12]
            m = _ManagerObj()
            m.id, m.name = r[13], r[14]
            gig.headliner, gig.support, gig.manager = b, s, m
            out.append(gig)
        return out

    assert width_band == 4 and width_manager == 2
    results: dict[str, float | str] = {}
    try:
        records = await conn.fetch(sql, *params)
        if len(records) != B3_ROWS or len(records[0]) != 15:
            raise RuntimeError(f"unexpected shape: {len(records)} rows of {len(records[0])}")
        mine = await query
        limit = construct(records)
        # Same objects: the prefetched rows carry the values the limit built.
        for a, b in zip(mine[:50], limit[:50]):
            assert (a.id, a.headliner.name, a.support.id, a.manager.name) == (
                b.id, b.headliner.name, b.support.id, b.manager.name
            )  # fmt: skip

        async def time_limit() -> float:
            started = time.perf_counter()
            construct(await conn.fetch(sql, *params))
            return time.perf_counter() - started

        async def time_gen() -> float:
            started = time.perf_counter()
            await query
            return time.perf_counter() - started

        for name, timer in (("hand-written construction", time_limit), ("piccolo-gen", time_gen)):
            await timer()
            results[name] = statistics.median([await timer() for _ in range(repeats)])
    except Exception as error:
        results.setdefault("piccolo-gen", f"failed: {type(error).__name__}: {error}")
    finally:
        await conn.close()
        await engine.close()
    return results


# -- the report ---------------------------------------------------------------------


def _print_b2(
    results: dict[str, float | str], tasks: int, pool: int, seconds: float, where: str
) -> None:
    print(
        f"B2 {where}: {tasks} tasks, pool of {pool}, {seconds:g} s, {READ_SHARE:.0%} by-key reads"
    )
    raw = results.get("raw asyncpg (asyncpg.Pool)")
    for name, value in results.items():
        if isinstance(value, str):
            print(f"  {name:30} {value}")
        else:
            ratio = f"{value / raw:.2f}x raw" if isinstance(raw, float) else "no raw figure"
            print(f"  {name:30} {value:10.0f} ops/s  {ratio}")
    ours = results.get("piccolo-gen")
    if not isinstance(ours, float) or not isinstance(raw, float):
        print("  target: not measured (a measurement failed)")
        return
    peers = [
        v for k, v in results.items() if k not in ("piccolo-gen", "raw asyncpg (asyncpg.Pool)")
    ]
    failed_peers = [v for v in peers if isinstance(v, str)]
    ahead = all(ours > v for v in peers if isinstance(v, float))
    verdict = "met" if ours >= B2_TARGET * raw and ahead and not failed_peers else "not met"
    if failed_peers:
        verdict += " (a peer failed to run: not comparable)"
    print(f"  target >= {B2_TARGET}x raw and ahead of every peer: {verdict}")


def _print_b3(results: dict[str, float | str]) -> None:
    print(f"B3: {B3_ROWS} gigs, three foreign keys prefetched (median seconds)")
    for name, value in results.items():
        print(f"  {name:30} {value if isinstance(value, str) else f'{value * 1000:8.1f} ms'}")
    ours, limit = results.get("piccolo-gen"), results.get("hand-written construction")
    if isinstance(ours, float) and isinstance(limit, float):
        ratio = ours / limit
        print(
            f"  {ratio:.2f}x the limit; target <= {B3_TARGET}x: {'met' if ratio <= B3_TARGET else 'not met'}"
        )
    else:
        print("  target: not measured (a measurement failed)")


def _b2_through_pgbouncer(dsn: str, seconds: float, shape: dict[str, int]) -> None:
    import _pg  # tests/_pg.py, on the path through bench.database
    import _pgbouncer

    try:
        bouncer = _pgbouncer.start(dsn)
    except _pg.PgUnavailable as error:
        print(f"B2 through PgBouncer: failed: {error}")
        return
    try:
        url = bouncer.url(urllib.parse.urlsplit(dsn).path.lstrip("/"))
        results = asyncio.run(b2(url, seconds=seconds, pooled=True, **shape))
        _print_b2(results, shape["tasks"], shape["pool"], seconds, "through PgBouncer")
    finally:
        bouncer.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--only", nargs="+", choices=["B2", "B3"], default=["B2", "B3"])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--pgbouncer", action="store_true", help="B2 also through PgBouncer (transaction pooling)"
    )
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="piccolo_gen_scaleout_"))
    databases = open_databases(args.rows, workdir)
    try:
        if databases.pg_dsn is None:
            print("failed: no PostgreSQL server")
            return 1
        dsn = databases.pg_dsn
        if "B2" in args.only:
            shape = {"rows": args.rows, "tasks": args.tasks, "pool": args.pool}
            results = asyncio.run(b2(dsn, seconds=args.seconds, **shape))
            _print_b2(results, args.tasks, args.pool, args.seconds, "direct")
            if args.pgbouncer:
                _b2_through_pgbouncer(dsn, args.seconds, shape)
        if "B3" in args.only:
            _print_b3(asyncio.run(b3(dsn, rows=args.rows)))
    finally:
        databases.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
