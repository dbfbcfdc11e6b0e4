"""Select features on SQLite and PostgreSQL: distinct (on), group_by with
aggregates, aliases, output(load_json / nested), lock_rows, batch, callback.

Every test takes the ``engine`` fixture, so it runs once per engine against a
real database; PostgreSQL-only clauses are checked to fail clearly on SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import decimal
from collections.abc import AsyncIterator

import pytest

from generated import music, shop
from generated.music import Band, Concert, Manager, Shirt, Size, Ticket, Venue
from generated.shop import Category, Product
from runtime import (
    Avg,
    Count,
    Engine,
    EngineError,
    Max,
    Min,
    OperationalError,
    PostgresEngine,
    Sum,
    create_tables,
    drop_tables,
    use_engine,
)

ALL_TABLES = (*music.TABLES, *shop.TABLES)
NEEDS_PG = r"needs PostgreSQL"


@contextlib.asynccontextmanager
async def music_and_shop(engine: Engine) -> AsyncIterator[Engine]:
    """Fresh music and shop tables on ``engine`` with a little data."""
    use_engine(engine, *ALL_TABLES)
    await drop_tables(*ALL_TABLES, if_exists=True)
    await create_tables(*ALL_TABLES)
    guido, graydon = await Manager.insert(Manager(name="Guido"), Manager(name="Graydon"))
    pythonistas, _, rustaceans, _, _ = await Band.insert(
        Band(name="Pythonistas", manager=guido, popularity=1000),
        Band(name="Djangonauts", manager=guido, popularity=500),
        Band(name="Rustaceans", manager=graydon, popularity=2000),
        Band(name="Crabs", manager=graydon, popularity=20),
        Band(name="Unmanaged", popularity=5),
    )
    arena, _ = await Venue.insert(Venue(name="Arena", capacity=1000), Venue(name="Garage"))
    early, late = await Concert.insert(
        Concert(
            band_1=pythonistas,
            band_2=rustaceans,
            venue=arena,
            starts=datetime.datetime(2024, 1, 1, 20, 0),
        ),
        Concert(
            band_1=rustaceans,
            band_2=pythonistas,
            venue=arena,
            starts=datetime.datetime(2024, 6, 1, 21, 30),
        ),
    )
    await Ticket.insert(
        Ticket(concert=early, price=decimal.Decimal("50.00")),
        Ticket(concert=early, price=decimal.Decimal("25.50")),
        Ticket(concert=late, price=decimal.Decimal("10.25")),
    )
    await Shirt.insert(Shirt(size=Size.small), Shirt(size=Size.large), Shirt(size=Size.medium))
    try:
        yield engine
    finally:
        await drop_tables(*ALL_TABLES, if_exists=True)
        use_engine(None, *ALL_TABLES)


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Engine]:
    """The data on each engine in turn."""
    async with music_and_shop(engine) as db:
        yield db


@pytest.fixture
async def pg_db(pg_engine: PostgresEngine) -> AsyncIterator[Engine]:
    """The data on PostgreSQL only, for what SQLite has no equivalent of."""
    async with music_and_shop(pg_engine) as db:
        yield db


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgres"


# -- distinct ----------------------------------------------------------------------


async def test_distinct(db: Engine) -> None:
    managers = Band.select(Band.manager).distinct().where(Band.manager.is_not_null())
    assert await managers.order_by(Band.manager) == [{"manager": 1}, {"manager": 2}]


async def test_distinct_on(db: Engine) -> None:
    query = (
        Band.select(Band.manager.name, Band.name)
        .where(Band.manager.is_not_null())
        .order_by(Band.manager.name)
        .order_by(Band.popularity, ascending=False)
    )
    if not is_postgres(db):
        with pytest.raises(NotImplementedError, match=r"distinct\(on=\.\.\.\) " + NEEDS_PG):
            query.distinct(on=[Band.manager.name])
        return
    top = query.distinct(on=[Band.manager.name])
    assert 'DISTINCT ON ("band$manager"."name")' in str(top)
    assert await top.output(as_tuples=True) == [
        ("Graydon", "Rustaceans"),
        ("Guido", "Pythonistas"),
    ]
    # The builder is immutable: the query it came from is unchanged.
    assert len(await query) == 4
    # distinct() without on= replaces it.
    assert "DISTINCT ON" not in str(top.distinct())


async def test_distinct_on_fails_at_run_time_when_the_engine_was_not_known(
    db: Engine,
) -> None:
    use_engine(None, Band)
    try:
        query = Band.select().distinct(on=["manager"])
        if is_postgres(db):
            assert len(await query.run(engine=db)) == 3
        else:
            with pytest.raises(NotImplementedError, match=NEEDS_PG):
                await query.run(engine=db)
    finally:
        use_engine(db, Band)
    with pytest.raises(ValueError, match="non-empty list"):
        Band.select().distinct(on=[])


async def test_new_clauses_leave_the_query_they_came_from_unchanged(db: Engine) -> None:
    base = Band.select(Band.manager.name, Count()).where(Band.popularity > 10)
    before = str(base)
    grouped = base.group_by(Band.manager.name)
    assert grouped is not base and "GROUP BY" in str(grouped)
    assert base.distinct() is not base
    assert base.output(nested=True) is not base
    assert base.output(as_tuples=True, load_json=True) is not base
    if is_postgres(db):
        assert "FOR UPDATE" in str(base.lock_rows()) and "DISTINCT ON" in str(
            base.distinct(on=["manager.name"])
        )
    assert str(base) == before
    assert await grouped.order_by(Band.manager.name).output(as_tuples=True) == [
        ("Graydon", 2),
        ("Guido", 2),
    ]


# -- group_by and aggregates -------------------------------------------------------


async def test_group_by_with_every_aggregate(db: Engine) -> None:
    query = (
        Band.select(
            Band.manager.name,
            Count(),
            Sum(Band.popularity),
            Avg(Band.popularity),
            Min(Band.name),
            Max(Band.popularity),
        )
        .where(Band.manager.is_not_null())
        .group_by(Band.manager.name)
        .order_by(Band.manager.name)
    )
    rows = await query
    assert rows == [
        {
            "manager.name": "Graydon",
            "count": 2,
            "sum": 2020,
            "avg": 1010.0,
            "min": "Crabs",
            "max": 2000,
        },
        {
            "manager.name": "Guido",
            "count": 2,
            "sum": 1500,
            "avg": 750.0,
            "min": "Djangonauts",
            "max": 1000,
        },
    ]
    # One Python type per aggregate on both engines.
    assert [type(v) for v in rows[0].values()] == [str, int, int, float, str, int]
    assert await query.output(as_tuples=True) == [
        ("Graydon", 2, 2020, 1010.0, "Crabs", 2000),
        ("Guido", 2, 1500, 750.0, "Djangonauts", 1000),
    ]


async def test_count_forms_and_aliases(db: Engine) -> None:
    query = Band.select(
        Count().as_alias("bands"),
        Count(Band.manager).as_alias("managed"),
        Count(distinct=[Band.manager]).as_alias("managers"),
    )
    assert await query == [{"bands": 5, "managed": 4, "managers": 2}]
    assert 'COUNT(DISTINCT "band"."manager") AS "managers"' in str(query)
    assert await Band.select(Count()).output(as_list=True) == [5]
    names = (
        await Band.select(Band.name.as_alias("title"), Band.manager.name.as_alias("boss"))
        .where(Band.popularity > 900)
        .order_by(Band.name)
    )
    assert names == [
        {"title": "Pythonistas", "boss": "Guido"},
        {"title": "Rustaceans", "boss": "Graydon"},
    ]
    # as_alias() copies: the column itself keeps its key.
    assert await Band.select(Band.name).where(Band.popularity == 5) == [{"name": "Unmanaged"}]
    with pytest.raises(ValueError, match="exactly one column"):
        Count(distinct=[Band.name, Band.manager])


async def test_order_by_an_aggregate(db: Engine) -> None:
    query = (
        Concert.select(Concert.band_1.name, Count())
        .group_by(Concert.band_1.name)
        .order_by(Count(), ascending=False)
    )
    assert "ORDER BY COUNT(*) DESC" in str(query)
    venues = await Ticket.select(Ticket.concert.venue.name, Count(), Sum(Ticket.price)).group_by(
        Ticket.concert.venue.name
    )
    assert venues == [{"concert.venue.name": "Arena", "count": 3, "sum": decimal.Decimal("85.75")}]
    popular = (
        Band.select(Band.manager.name, Sum(Band.popularity).as_alias("total"))
        .where(Band.manager.is_not_null())
        .group_by(Band.manager.name)
        .order_by(Sum(Band.popularity), ascending=False)
        .limit(1)
    )
    assert await popular == [{"manager.name": "Graydon", "total": 2020}]


async def test_aggregate_value_types(db: Engine) -> None:
    (prices,) = await Ticket.select(Sum(Ticket.price), Avg(Ticket.price), Max(Ticket.price))
    assert prices["sum"] == decimal.Decimal("85.75")
    assert isinstance(prices["avg"], decimal.Decimal)
    assert round(prices["avg"], 2) == decimal.Decimal("28.58")
    assert prices["max"] == decimal.Decimal("50.00")
    starts = await Concert.select(Min(Concert.starts), Max(Concert.starts)).output(as_tuples=True)
    assert starts == [(datetime.datetime(2024, 1, 1, 20, 0), datetime.datetime(2024, 6, 1, 21, 30))]
    sizes = await Shirt.select(Min(Shirt.size), Max(Shirt.size)).output(as_tuples=True)
    assert sizes == [(Size.large, Size.small)]  # "l" < "m" < "s"
    assert type(sizes[0][0]) is Size
    capacity = await Venue.select(Avg(Venue.capacity), Sum(Venue.capacity)).output(as_tuples=True)
    assert capacity == [(1000.0, 1000)]
    # A foreign key holds its target's key type.
    assert await Band.select(Sum(Band.manager), Avg(Band.manager)).output(as_tuples=True) == [
        (6, 1.5)
    ]


async def test_aggregates_over_no_rows(db: Engine) -> None:
    empty = Band.select(Count(), Sum(Band.popularity), Avg(Band.popularity), Max(Band.name))
    rows = await empty.where(Band.popularity > 10_000).output(as_tuples=True)
    # SUM is COALESCEd to 0; AVG, MIN and MAX of no rows are NULL in SQL.
    assert rows == [(0, 0, None, None)]


async def test_aggregates_refuse_misuse(db: Engine) -> None:
    with pytest.raises(TypeError, match="cannot be compared in where"):
        Band.select().where(Count() > 1)
    with pytest.raises(TypeError, match="numeric column"):
        Sum(Band.name)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a column"):
        Max("name")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one column"):
        Band.select().group_by()


# -- output(load_json=True) and output(nested=True) --------------------------------


async def test_load_json(db: Engine) -> None:
    (category,) = await Category.insert(Category(name="Clothes"))
    await Product.insert(
        Product(
            name="Shirt",
            price=decimal.Decimal("20.00"),
            category=category,
            attributes='{"colours": ["red", "blue"], "size": {"chest": 100}}',
            band=1,
        )
    )
    raw = await Product.select(Product.attributes).output(as_list=True)
    assert isinstance(raw[0], str)
    parsed = {"colours": ["red", "blue"], "size": {"chest": 100}}
    assert await Product.select(Product.attributes).output(as_list=True, load_json=True) == [parsed]
    (row,) = await Product.select().output(load_json=True)
    assert row["attributes"] == parsed
    assert row["name"] == "Shirt" and row["price"] == decimal.Decimal("20.00")
    assert await Product.select(Product.name, Product.attributes).output(
        as_tuples=True, load_json=True
    ) == [("Shirt", parsed)]
    nested = await Product.select(Product.attributes, Product.band.name).output(
        nested=True, load_json=True
    )
    assert nested == [{"attributes": parsed, "band": {"name": "Pythonistas"}}]
    as_json = await Product.select(Product.attributes).output(as_json=True, load_json=True)
    assert as_json == '[{"attributes": {"colours": ["red", "blue"], "size": {"chest": 100}}}]'


async def test_nested(db: Engine) -> None:
    query = (
        Concert.select(
            Concert.id,
            Concert.band_1.name,
            Concert.band_1.manager.name,
            Concert.venue.name,
        )
        .order_by(Concert.id)
        .output(nested=True)
    )
    assert await query == [
        {
            "id": 1,
            "band_1": {"name": "Pythonistas", "manager": {"name": "Guido"}},
            "venue": {"name": "Arena"},
        },
        {
            "id": 2,
            "band_1": {"name": "Rustaceans", "manager": {"name": "Graydon"}},
            "venue": {"name": "Arena"},
        },
    ]
    # A foreign key selected with columns behind it becomes the target's key.
    unmanaged = (
        await Band.select(Band.name, Band.manager, Band.manager.name)
        .where(Band.name == "Unmanaged")
        .output(nested=True)
    )
    assert unmanaged == [{"name": "Unmanaged", "manager": {"id": None, "name": None}}]
    assert await Band.select(Band.name).where(Band.popularity == 5).output(nested=True) == [
        {"name": "Unmanaged"}
    ]
    assert await query.first() == {
        "id": 1,
        "band_1": {"name": "Pythonistas", "manager": {"name": "Guido"}},
        "venue": {"name": "Arena"},
    }
    as_json = (
        await Band.select(Band.name, Band.manager.name)
        .where(Band.popularity == 5)
        .output(as_json=True, nested=True)
    )
    assert as_json == '[{"name": "Unmanaged", "manager": {"name": null}}]'


async def test_output_option_errors(db: Engine) -> None:
    with pytest.raises(ValueError, match="needs an option"):
        Band.select().output()  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="one of"):
        Band.select(Band.name).output(as_list=True, nested=True)  # type: ignore[call-overload]


# -- lock_rows ---------------------------------------------------------------------


async def test_lock_rows_sql_and_sqlite_error(db: Engine) -> None:
    if not is_postgres(db):
        with pytest.raises(NotImplementedError, match=r"lock_rows\(\) " + NEEDS_PG):
            Band.select().lock_rows()
        with pytest.raises(NotImplementedError, match=NEEDS_PG):
            Band.objects().lock_rows()
        return
    assert str(Band.select(Band.name).lock_rows()).endswith('FROM "band" FOR UPDATE')
    assert str(Band.select().lock_rows("SHARE", nowait=True)).endswith(" FOR SHARE NOWAIT")
    assert str(Band.select().lock_rows("NO KEY UPDATE", skip_locked=True)).endswith(
        " FOR NO KEY UPDATE SKIP LOCKED"
    )
    joined = Band.select(Band.name, Band.manager.name).lock_rows("KEY SHARE")
    assert str(joined).endswith(' FOR KEY SHARE OF "band"')
    of_manager = Band.select(Band.name, Band.manager.name).lock_rows(of=(Manager,))
    assert str(of_manager).endswith(' FOR UPDATE OF "band$manager"')
    with pytest.raises(ValueError, match="neither selects from nor joins"):
        str(Band.select().lock_rows(of=(Venue,)))
    with pytest.raises(ValueError, match="not both"):
        Band.select().lock_rows(nowait=True, skip_locked=True)
    with pytest.raises(ValueError, match="lock_strength"):
        Band.select().lock_rows("EXCLUSIVE")  # type: ignore[arg-type]
    async with db.transaction():
        rows = await joined.where(Band.manager.name == "Guido").order_by(Band.name)
        assert rows == [
            {"name": "Djangonauts", "manager.name": "Guido"},
            {"name": "Pythonistas", "manager.name": "Guido"},
        ]
        bands = await Band.objects().where(Band.popularity > 900).lock_rows().order_by(Band.id)
        assert [band.name for band in bands] == ["Pythonistas", "Rustaceans"]


async def hold_lock(db: Engine, locked: asyncio.Event, release: asyncio.Event) -> None:
    async with db.transaction():
        await Band.select().where(Band.name == "Pythonistas").lock_rows()
        locked.set()
        await release.wait()


async def test_lock_rows_skip_locked_and_nowait_between_transactions(pg_db: Engine) -> None:
    db = pg_db
    locked, release = asyncio.Event(), asyncio.Event()
    # A task of its own: its transaction (and connection) is not this test's.
    holder = asyncio.create_task(hold_lock(db, locked, release))
    try:
        await asyncio.wait_for(locked.wait(), 10)
        async with db.transaction():
            free = Band.select(Band.name).order_by(Band.name).output(as_list=True)
            assert await free.lock_rows(skip_locked=True) == [
                "Crabs",
                "Djangonauts",
                "Rustaceans",
                "Unmanaged",
            ]
        with pytest.raises(OperationalError, match="could not obtain lock"):
            async with db.transaction():
                await Band.select().where(Band.name == "Pythonistas").lock_rows(nowait=True)
    finally:
        release.set()
        await holder
    # Released with the holder's transaction.
    async with db.transaction():
        assert len(await Band.select().lock_rows(nowait=True)) == 5


# -- batch -------------------------------------------------------------------------


async def test_batch_select(db: Engine) -> None:
    query = Band.select().order_by(Band.id)
    batches = [rows async for rows in query.batch(batch_size=2)]
    assert [len(rows) for rows in batches] == [2, 2, 1]
    assert [row for rows in batches for row in rows] == await query
    names = Band.select(Band.name).order_by(Band.name).output(as_list=True)
    assert [rows async for rows in names.batch(batch_size=3)] == [
        ["Crabs", "Djangonauts", "Pythonistas"],
        ["Rustaceans", "Unmanaged"],
    ]
    exact = [rows async for rows in names.batch(batch_size=5)]
    assert exact == [["Crabs", "Djangonauts", "Pythonistas", "Rustaceans", "Unmanaged"]]
    assert [rows async for rows in names.where(Band.popularity > 10_000).batch()] == []
    nested = Band.select(Band.name, Band.manager.name).where(Band.popularity == 1000)
    assert [rows async for rows in nested.output(nested=True).batch()] == [
        [{"name": "Pythonistas", "manager": {"name": "Guido"}}]
    ]
    with pytest.raises(ValueError, match="positive int"):
        Band.select().batch(batch_size=0)


async def test_batch_piccolo_form(db: Engine) -> None:
    query = Band.select(Band.name).order_by(Band.name).output(as_list=True)
    async with await query.batch(batch_size=4) as batch:
        assert [rows async for rows in batch] == [
            ["Crabs", "Djangonauts", "Pythonistas", "Rustaceans"],
            ["Unmanaged"],
        ]
    async with await Band.objects().order_by(Band.id).batch(batch_size=2) as bands:
        async for chunk in bands:
            assert [band.id for band in chunk] == [1, 2]
            break
    # The block closed the cursor: the engine serves the next query.
    assert await Band.count() == 5


async def test_batch_on_a_node(db: Engine) -> None:
    query = Band.select(Band.id).order_by(Band.id).output(as_list=True)
    if not isinstance(db, PostgresEngine):
        with pytest.raises(EngineError, match="no extra nodes"):
            [ids async for ids in query.batch(node="replica")]
        return
    primary = PostgresEngine(config=db.config, extra_nodes={"replica": PostgresEngine(db.config)})
    batches = query.batch(batch_size=3, engine=primary, node="replica")
    assert [ids async for ids in batches] == [[1, 2, 3], [4, 5]]


async def test_batch_objects(db: Engine) -> None:
    seen: list[str] = []
    async for bands in (
        Band.objects().where(Band.popularity > 10).order_by(Band.name).batch(batch_size=3)
    ):
        assert all(isinstance(band, Band) for band in bands)
        seen.extend(band.name for band in bands)
    assert seen == ["Crabs", "Djangonauts", "Pythonistas", "Rustaceans"]


async def test_batch_leaving_early_releases_the_cursor(db: Engine) -> None:
    for _ in range(3):
        async for rows in Band.select().order_by(Band.id).batch(batch_size=1):
            assert rows[0]["id"] == 1
            break
    assert await Band.count() == 5
    # Writing between batches, outside a transaction.
    async for bands in Band.objects().order_by(Band.id).batch(batch_size=2):
        for band in bands:
            band.popularity += 1
            await band.save()
    assert await Band.select(Sum(Band.popularity)).output(as_list=True) == [3530]


async def test_batch_inside_a_transaction(db: Engine) -> None:
    async with db.transaction():
        await Band.update(popularity=0).where(Band.name == "Crabs")
        batches = Band.select(Band.name, Band.popularity).order_by(Band.name)
        rows = [rows async for rows in batches.output(as_tuples=True).batch(batch_size=4)]
        # The batch reads inside the transaction: it sees the update.
        assert rows[0][0] == ("Crabs", 0)
        assert [len(r) for r in rows] == [4, 1]
        async for managers in Manager.objects().order_by(Manager.id).batch(batch_size=1):
            # Other queries of the block may run between batches.
            await Band.update(popularity=1).where(Band.manager == managers[0].id)
        assert await Band.select(Sum(Band.popularity)).output(as_list=True) == [9]


async def test_batch_uses_a_server_side_cursor_on_postgres(pg_db: Engine) -> None:
    db = pg_db
    # pg_cursors also lists the portal of the statement reading it: leave it out.
    open_cursors = "SELECT statement FROM pg_cursors WHERE statement NOT LIKE '%pg_cursors%'"
    seen: list[list[str]] = []
    async with db.transaction():
        async for _ in Band.select().batch(batch_size=2):
            seen.append([row[0] for row in await db.fetch(open_cursors)])
    assert seen == [[str(Band.select())]] * 3


async def test_batch_on_a_pool(pg_db: Engine, pg_dsn: str) -> None:
    engine = PostgresEngine(config={"dsn": pg_dsn})
    await engine.start_connection_pool(min_size=1, max_size=1)
    try:
        query = Band.select(Band.id).order_by(Band.id).output(as_list=True)
        for _ in range(2):
            async for ids in query.batch(batch_size=2, engine=engine):
                assert ids == [1, 2]
                break
        # The only connection went back to the pool, out of any transaction.
        assert await query.run(engine=engine) == [1, 2, 3, 4, 5]
        assert [ids async for ids in query.batch(batch_size=4, engine=engine)] == [
            [1, 2, 3, 4],
            [5],
        ]
        # An error in the loop body: the connection is given back too.
        with pytest.raises(KeyError):
            async for ids in query.batch(batch_size=2, engine=engine):
                raise KeyError(ids[0])
        assert await asyncio.wait_for(Band.count().run(engine=engine), 10) == 5
    finally:
        await engine.close()


# -- callback ----------------------------------------------------------------------


async def test_callback(db: Engine) -> None:
    names = Band.select(Band.name).order_by(Band.name).output(as_list=True)
    assert await names.callback(len) == 5
    assert await names.callback(lambda rows: rows[0]).callback(str.upper) == "CRABS"
    assert await names.callback(lambda rows: [n.upper() for n in rows[:2]]) == [
        "CRABS",
        "DJANGONAUTS",
    ]

    async def total(bands: list[Band]) -> int:
        return sum(band.popularity for band in bands)

    assert await Band.objects().callback(total) == 3525
    assert await Band.objects().callback(total).callback(lambda n: n * 2) == 7050
    query = Band.select().callback(len)
    assert str(query) == str(Band.select())
    with pytest.raises(TypeError, match="takes a function"):
        Band.select().callback(5)  # type: ignore[call-overload]
