"""Objects (create, refresh, to_dict, prefetch, reverse lookups, get_or_create)
and writes (on_conflict, returning, column arithmetic), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from generated import music, shop
from generated.music import Band, Concert, Manager, Ticket, Venue
from generated.shop import Category, Product
from runtime import (
    Array,
    Engine,
    Integer,
    PostgresEngine,
    SQLiteEngine,
    Table,
    UniqueViolation,
    Varchar,
    create_tables,
    drop_tables,
    use_engine,
)
from runtime._dialect import POSTGRES, SQLITE
from runtime._write import hashable

ALL_TABLES = (*music.TABLES, *shop.TABLES)


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Engine]:
    """Fresh tables with two managers, three bands, a venue, a concert and tickets."""
    use_engine(engine, *ALL_TABLES)
    await drop_tables(*ALL_TABLES, if_exists=True)
    await create_tables(*ALL_TABLES)
    guido, graydon = await Manager.insert(Manager(name="Guido"), Manager(name="Graydon"))
    pythonistas, rustaceans, _ = await Band.insert(
        Band(name="Pythonistas", manager=guido, popularity=1000),
        Band(name="Rustaceans", manager=graydon, popularity=2000),
        Band(name="Unmanaged", popularity=5),
    )
    (arena,) = await Venue.insert(Venue(name="Arena", capacity=1000))
    (concert,) = await Concert.insert(
        Concert(
            band_1=pythonistas,
            band_2=rustaceans,
            venue=arena,
            starts=datetime.datetime(2024, 1, 1, 20, 0),
        )
    )
    await Ticket.insert(Ticket(concert=concert, price=decimal.Decimal("50.00")))
    try:
        yield engine
    finally:
        await drop_tables(*ALL_TABLES, if_exists=True)
        use_engine(None, *ALL_TABLES)


async def popularity(name: str) -> int | None:
    return await Band.select(Band.popularity).where(Band.name == name).output(as_list=True).first()


# -- objects: create, refresh, to_dict ------------------------------------------------


async def test_create_saves_and_returns_the_row(db: Engine) -> None:
    band = await Band.objects().create(name="Created", manager=1, popularity=7)
    assert isinstance(band, Band)
    assert band.id == 4
    assert await Band.select().where(Band.id == band.id).first() == {
        "id": 4,
        "name": "Created",
        "manager": 1,
        "popularity": 7,
    }
    default = await Venue.objects().create()
    assert (default.name, default.capacity) == ("", None)


async def test_create_refuses_bad_values_before_the_database(db: Engine) -> None:
    with pytest.raises(TypeError, match="no column nme"):
        Band.objects().create(nme="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="expects int"):
        Band.objects().create(popularity="x")  # type: ignore[arg-type]
    assert await Band.count() == 3


async def test_assigned_values_are_checked_before_the_database(db: Engine) -> None:
    # A new row and a saved one: a bad value raises at the assignment, the
    # row keeps its value, and save() writes only checked values (SQLite
    # would store "many" in an INTEGER column as it is).
    fresh = Band(name="Fresh", popularity=3)
    saved = await Band.objects().get(Band.name == "Pythonistas")
    assert saved is not None
    for row in (fresh, saved):
        before = dict(row.__dict__)
        with pytest.raises(TypeError, match="expects int; got str"):
            row.popularity = "many"  # type: ignore[assignment]
        with pytest.raises(ValueError, match="is not nullable"):
            row.name = None  # type: ignore[assignment]
        with pytest.raises(ValueError, match="out of range"):
            row.popularity = 2**40
        with pytest.raises(ValueError, match="the related row has not been saved"):
            row.manager = Manager(name="Unsaved")
        assert row.__dict__ == before
        row.popularity = 42
        # A related row (typed: the key only) is stored as its key, as the constructor does.
        row.manager = await Manager.objects().get(Manager.name == "Graydon")  # type: ignore[assignment]
        assert row.manager == 2
        await row.save()
    assert await Band.select(Band.name, Band.manager, Band.popularity).where(
        Band.name.is_in(["Fresh", "Pythonistas"])
    ).order_by(Band.name).output(as_tuples=True) == [("Fresh", 2, 42), ("Pythonistas", 2, 42)]


async def test_refresh_reloads_all_or_some_columns(db: Engine) -> None:
    band = await Band.objects().get(Band.name == "Pythonistas")
    assert band is not None
    await Band.update(popularity=1, name="Renamed").where(Band.id == band.id)
    assert await band.refresh(columns=[Band.popularity]) is band
    assert (band.name, band.popularity) == ("Pythonistas", 1)
    await band.refresh()
    assert band.name == "Renamed"


async def test_refresh_of_a_missing_or_unsaved_row_is_an_error(db: Engine) -> None:
    band = await Band.objects().get(Band.name == "Unmanaged")
    assert band is not None
    await Band.delete().where(Band.id == band.id)
    with pytest.raises(ValueError, match="no longer exists"):
        await band.refresh()
    with pytest.raises(ValueError, match="never saved"):
        Band(name="new").refresh()
    with pytest.raises(ValueError, match="own columns"):
        band.refresh(columns=[Band.manager.name])


async def test_to_dict(db: Engine) -> None:
    band = await Band.objects().get(Band.name == "Pythonistas")
    assert band is not None
    assert band.to_dict() == await Band.select().where(Band.id == band.id).first()
    assert band.to_dict(Band.name, Band.popularity) == {"name": "Pythonistas", "popularity": 1000}
    assert Band(name="new").to_dict() == {
        "id": None,
        "name": "new",
        "manager": None,
        "popularity": 0,
    }
    with pytest.raises(ValueError, match="own columns"):
        band.to_dict(Band.manager.name)


# -- objects: prefetch ---------------------------------------------------------------


async def test_prefetch_loads_related_rows_with_a_join(db: Engine) -> None:
    query = Band.objects(Band.manager).order_by(Band.id)
    assert "LEFT JOIN" in str(query)
    bands = await query
    assert [b.name for b in bands] == ["Pythonistas", "Rustaceans", "Unmanaged"]
    managers = [b.manager for b in bands]
    assert isinstance(managers[0], Manager) and managers[0].name == "Guido"
    assert isinstance(managers[1], Manager) and managers[1].name == "Graydon"
    assert managers[2] is None
    first = await Band.objects(Band.manager).where(Band.manager.name == "Graydon").first()
    assert first is not None and first.manager is not None
    assert first.manager.id == 2


async def test_prefetch_several_keys_to_the_same_table(db: Engine) -> None:
    concert = await Concert.objects(Concert.band_1, Concert.band_2, Concert.venue).first()
    assert concert is not None
    assert isinstance(concert.band_1, Band) and concert.band_1.name == "Pythonistas"
    assert isinstance(concert.band_2, Band) and concert.band_2.name == "Rustaceans"
    assert isinstance(concert.venue, Venue) and concert.venue.capacity == 1000
    only_venue = await Concert.objects(Concert.venue).first()
    assert only_venue is not None and isinstance(only_venue.venue, Venue)
    assert only_venue.band_1 == 1


async def test_prefetch_takes_only_own_foreign_keys(db: Engine) -> None:
    with pytest.raises(ValueError, match="prefetches foreign keys of Band"):
        Band.objects(Concert.band_1)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="prefetches foreign keys of Ticket"):
        Ticket.objects(Ticket.concert.band_1)  # type: ignore[call-overload]


async def test_prefetched_rows_save_refresh_and_relate(db: Engine) -> None:
    band = await Band.objects(Band.manager).get(Band.name == "Pythonistas")
    assert band is not None and band.manager is not None
    band.popularity = 1001
    await band.save()
    assert await popularity("Pythonistas") == 1001
    assert band.to_dict()["manager"] == 1
    related = await band.get_related(Band.manager)
    assert related is not None and related.name == "Guido"
    await Manager.update(name="Guido v R").where(Manager.id == 1)
    await band.refresh()
    assert band.manager is not None and band.manager.name == "Guido v R"


async def test_get_or_create_with_prefetch_returns_related_rows(db: Engine) -> None:
    created = await Band.objects(Band.manager).get_or_create(
        Band.name == "New", defaults={Band.manager: 2}
    )
    assert created.manager is not None and created.manager.name == "Graydon"
    found = await Band.objects(Band.manager).get_or_create(Band.name == "Pythonistas")
    assert found.manager is not None and found.manager.name == "Guido"


# -- objects: reverse lookups and get_or_create -------------------------------------


async def test_get_reverse(db: Engine) -> None:
    guido = await Manager.objects().get(Manager.name == "Guido")
    assert guido is not None
    bands = await guido.get_reverse(Band)
    assert [b.name for b in bands] == ["Pythonistas"]
    await Band.insert(Band(name="Second", manager=guido, popularity=1))
    names = await guido.get_reverse(Band).order_by(Band.name).where(Band.popularity > 0)
    assert [b.name for b in names] == ["Pythonistas", "Second"]
    band = await Band.objects().get(Band.name == "Rustaceans")
    assert band is not None
    assert [c.id for c in await band.get_reverse(Concert, Concert.band_2)] == [1]
    assert await band.get_reverse(Concert, Concert.band_1) == []


async def test_get_reverse_needs_one_matching_key(db: Engine) -> None:
    band = await Band.objects().get(Band.name == "Rustaceans")
    assert band is not None
    with pytest.raises(ValueError, match="band_1, Concert.band_2"):
        band.get_reverse(Concert)
    with pytest.raises(ValueError, match="foreign key of Concert to Band"):
        band.get_reverse(Concert, Concert.venue)
    with pytest.raises(ValueError, match="never saved"):
        Manager(name="new").get_reverse(Band)


async def test_get_or_create(db: Engine) -> None:
    existing = await Band.objects().get_or_create(Band.name == "Unmanaged")
    assert (existing.id, existing.popularity) == (3, 5)
    created = await Band.objects().get_or_create(
        (Band.name == "Fresh") & (Band.manager == 1), defaults={"popularity": 42}
    )
    assert (created.id, created.name, created.manager, created.popularity) == (4, "Fresh", 1, 42)
    again = await Band.objects().get_or_create(Band.name == "Fresh")
    assert again.id == 4
    assert await Band.count() == 4


async def test_get_or_create_checks_defaults_before_the_database(db: Engine) -> None:
    with pytest.raises(TypeError, match="expects int"):
        Band.objects().get_or_create(Band.name == "x", defaults={Band.popularity: "high"})
    with pytest.raises(ValueError, match="no column path"):
        Band.objects().get_or_create(Band.name == "x", defaults={"nope": 1})
    assert await Band.count() == 3


# -- insert: on_conflict and returning -------------------------------------------------


async def test_on_conflict_do_nothing(db: Engine) -> None:
    taken, fresh = Band(name="Pythonistas", popularity=1), Band(name="Fresh", popularity=2)
    written = await Band.insert(taken, fresh).on_conflict(target=Band.name)
    assert written == [fresh]
    # PostgreSQL spends a sequence value on the skipped row: ask the table.
    assert (
        fresh.id
        == await Band.select(Band.id).where(Band.name == "Fresh").output(as_list=True).first()
    )
    assert taken.__dict__.get("id") is None and not taken.__dict__["_saved"]
    assert await popularity("Pythonistas") == 1000
    # Without a target, any unique conflict is skipped.
    assert await Band.insert(Band(name="Fresh")).on_conflict(action="DO NOTHING") == []
    assert await Band.count() == 4


async def test_on_conflict_do_update(db: Engine) -> None:
    taken, fresh = Band(name="Pythonistas", popularity=1), Band(name="Fresh", popularity=2)
    written = await Band.insert(taken, fresh).on_conflict(
        target=Band.name, action="DO UPDATE", values=[Band.popularity]
    )
    assert written == [taken, fresh]
    assert taken.id == 1
    assert (
        fresh.id
        == await Band.select(Band.id).where(Band.name == "Fresh").output(as_list=True).first()
    )
    assert await popularity("Pythonistas") == 1
    await Band.insert(Band(name="Fresh")).on_conflict(
        target=(Band.name,),
        action="DO UPDATE",
        values=[(Band.popularity, Band.popularity + 10), (Band.manager, 2)],
        where=Band.popularity < 100,
    )
    assert await Band.select(Band.popularity, Band.manager).where(Band.name == "Fresh").output(
        as_tuples=True
    ) == [(12, 2)]
    # The where clause leaves rows that fail it alone.
    await Band.insert(Band(name="Rustaceans")).on_conflict(
        target=Band.name,
        action="DO UPDATE",
        values=[(Band.popularity, 0)],
        where=Band.popularity < 100,
    )
    assert await popularity("Rustaceans") == 2000


class Tagging(Table[Any], tablename="tagging"):
    tags: Array[list[int]] = Array(Integer(), unique=True)
    note: Varchar[str] = Varchar(length=10, default="")


async def test_on_conflict_pairs_rows_by_an_array_key(engine: Engine) -> None:
    # The rows written are paired with the rows given by their conflict key:
    # an array (a list, not hashable as it is) must pair too.
    await drop_tables(Tagging, if_exists=True).run(engine=engine)
    await create_tables(Tagging).run(engine=engine)
    try:
        await Tagging.insert(Tagging(tags=[1, 2], note="old")).run(engine=engine)
        again, fresh = Tagging(tags=[1, 2], note="new"), Tagging(tags=[3], note="fresh")
        written = (
            await Tagging.insert(again, fresh)
            .on_conflict(target=Tagging.tags, action="DO UPDATE", values=[Tagging.note])
            .run(engine=engine)
        )
        assert written == [again, fresh]
        assert again.id == 1
        assert fresh.id == await Tagging.select(Tagging.id).where(Tagging.note == "fresh").output(
            as_list=True
        ).first().run(engine=engine)
        assert await Tagging.select(Tagging.tags, Tagging.note).order_by(Tagging.id).output(
            as_tuples=True
        ).run(engine=engine) == [([1, 2], "new"), ([3], "fresh")]
    finally:
        await drop_tables(Tagging, if_exists=True).run(engine=engine)


def test_hashable_keys_are_equal_where_the_values_are() -> None:
    first = (1, [2, [3]], {"b": [1], "a": {"c": 2}})
    second = (1, [2, [3]], {"a": {"c": 2}, "b": [1]})
    assert hashable(first) == hashable(second)
    assert hash(hashable(first)) == hash(hashable(second))
    assert hashable((1, [2, [4]])) != hashable((1, [2, [3]]))
    row = Band(name="x")
    assert hashable([row]) == (id(row),)


async def test_on_conflict_is_checked_before_the_database(db: Engine) -> None:
    insert = Band.insert(Band(name="x"))
    with pytest.raises(ValueError, match="needs a target"):
        insert.on_conflict(action="DO UPDATE", values=[Band.popularity])
    with pytest.raises(ValueError, match="needs values"):
        insert.on_conflict(target=Band.name, action="DO UPDATE")
    with pytest.raises(ValueError, match="'DO NOTHING' or 'DO UPDATE'"):
        insert.on_conflict(action="DO SOMETHING")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="own columns"):
        insert.on_conflict(target=Band.manager.name)
    with pytest.raises(TypeError, match="expects int"):
        insert.on_conflict(target=Band.name, action="DO UPDATE", values=[(Band.popularity, "x")])
    with pytest.raises(ValueError, match="one on_conflict"):
        insert.on_conflict().on_conflict()
    with pytest.raises(ValueError, match="join paths"):
        await insert.on_conflict(
            target=Band.name,
            action="DO UPDATE",
            values=[Band.popularity],
            where=Band.manager.name == "Guido",
        )
    assert await Band.count() == 3


async def test_insert_returning(db: Engine) -> None:
    rows = await Band.insert(Band(name="A", popularity=1), Band(name="B")).returning(
        Band.id, Band.name
    )
    assert rows == [{"id": 4, "name": "A"}, {"id": 5, "name": "B"}]
    ids = await Band.insert(Band(name="C")).returning(Band.id).output(as_list=True)
    assert ids == [6]
    skipped = await (
        Band.insert(Band(name="A"), Band(name="D", popularity=9))
        .on_conflict(target=Band.name)
        .returning(Band.name, Band.popularity)
        .output(as_tuples=True)
    )
    assert skipped == [("D", 9)]


async def test_update_and_delete_returning(db: Engine) -> None:
    rows = await (
        Band.update(popularity=Band.popularity + 1)
        .where(Band.manager.is_not_null())
        .returning(Band.name, Band.popularity)
        .output(as_tuples=True)
    )
    assert sorted(rows) == [("Pythonistas", 1001), ("Rustaceans", 2001)]
    deleted = await Ticket.delete().where(Ticket.price > 1).returning(Ticket.id, Ticket.price)
    assert deleted == [{"id": 1, "price": decimal.Decimal("50.00")}]
    with pytest.raises(ValueError, match="without where"):
        await Band.delete().returning(Band.id)
    with pytest.raises(ValueError, match="own columns"):
        Band.delete().returning(Band.manager.name)


async def test_returning_query_is_printable(db: Engine) -> None:
    query = Band.update(popularity=0).where(Band.id == 1).returning(Band.id)
    assert str(query).endswith('RETURNING "id"')


# -- update: column arithmetic ---------------------------------------------------------


async def test_update_with_arithmetic(db: Engine) -> None:
    await Band.update({Band.popularity: Band.popularity + 1}).where(Band.name == "Pythonistas")
    assert await popularity("Pythonistas") == 1001
    await Band.update(popularity=Band.popularity - 1).where(Band.name == "Pythonistas")
    await Band.update(popularity=Band.popularity * 2).where(Band.name == "Pythonistas")
    assert await popularity("Pythonistas") == 2000
    # Integer division, as in SQL.
    await Band.update(popularity=Band.popularity / 3).where(Band.name == "Unmanaged")
    assert await popularity("Unmanaged") == 1
    await Band.update(popularity=10 - Band.popularity * 2).where(Band.name == "Unmanaged")
    assert await popularity("Unmanaged") == 8
    await Band.update(popularity=Band.popularity + Band.id).where(Band.name == "Unmanaged")
    assert await popularity("Unmanaged") == 11


async def test_update_with_concatenation(db: Engine) -> None:
    await Band.update(name=Band.name + "!").where(Band.id == 1)
    await Band.update(name="The " + Band.name).where(Band.id == 2)
    names = await Band.select(Band.name).order_by(Band.id).output(as_list=True)
    assert names == ["Pythonistas!", "The Rustaceans", "Unmanaged"]


async def test_arithmetic_on_nullable_and_numeric_columns(db: Engine) -> None:
    await Venue.insert(Venue(name="Garage"))
    await Venue.update(capacity=Venue.capacity + 1, force=True)
    capacities = await Venue.select(Venue.capacity).order_by(Venue.id).output(as_list=True)
    assert capacities == [1001, None]
    await Ticket.update(price=Ticket.price * 2 + decimal.Decimal("0.50"), force=True)
    assert await Ticket.select(Ticket.price).output(as_list=True) == [decimal.Decimal("100.50")]


async def test_expressions_in_where_and_select(db: Engine) -> None:
    bands = await Band.objects().where(Band.popularity * 2 > 2500)
    assert [b.name for b in bands] == ["Rustaceans"]
    shouted = await Band.select(Band.name + "!").where(Band.id == 1).output(as_list=True)
    assert shouted == ["Pythonistas!"]


async def test_expressions_are_checked_before_the_database(db: Engine) -> None:
    with pytest.raises(TypeError, match="a number column takes an int"):
        Band.popularity + "x"  # type: ignore[operator]
    with pytest.raises(TypeError, match="expects str"):
        Band.name + 1  # type: ignore[operator]
    with pytest.raises(TypeError, match="cannot be set"):
        Band.update({Band.popularity: Band.name + "x"})
    with pytest.raises(ValueError, match="own columns"):
        Band.update({Band.popularity + 1: 2})
    with pytest.raises(ValueError, match="join paths"):
        await Band.update(name=Band.manager.name + "'s band").where(Band.id == 1)
    assert await popularity("Pythonistas") == 1000


def test_expression_values_are_parameters() -> None:
    evil = "'; DROP TABLE band; --"
    query = Band.update(name=Band.name + evil, popularity=Band.popularity + 1).where(Band.id == 1)
    sql, params = query._sql(POSTGRES)
    assert sql == (
        'UPDATE "band" SET "name" = ("band"."name" || $1),'
        ' "popularity" = ("band"."popularity" + $2) WHERE "band"."id" = $3'
    )
    assert params == [evil, 1, 1]
    sql, params = (
        Band.insert(Band(name="x"))
        .on_conflict(target=Band.name, action="DO UPDATE", values=[(Band.popularity, 5)])
        ._sql(SQLITE)
    )
    assert "?" in sql and "5" not in sql and params[-1] == 5


def test_write_builders_are_immutable() -> None:
    insert = Band.insert(Band(name="x"))
    upsert = insert.on_conflict(target=Band.name)
    assert "ON CONFLICT" not in str(insert) and "ON CONFLICT" in str(upsert)
    update = Band.update(popularity=1).where(Band.id == 1)
    returning = update.returning(Band.id)
    assert "RETURNING" not in str(update) and "RETURNING" in str(returning)
    assert returning.output(as_list=True) is not returning


async def test_prefetch_self_reference_and_other_module(db: Engine) -> None:
    root = await Category.objects().create(name="Merch")
    shirts = await Category.objects().create(name="Shirts", parent=root)
    product = await Product.objects().create(
        name="Tee", price=decimal.Decimal("20.00"), category=shirts, band=1
    )
    loaded = await Category.objects(Category.parent).order_by(Category.name)
    assert [c.name for c in loaded] == ["Merch", "Shirts"]
    assert loaded[0].parent is None
    assert isinstance(loaded[1].parent, Category) and loaded[1].parent.id == root.id
    (tee,) = await Product.objects(Product.category, Product.band)
    assert isinstance(tee.category, Category) and tee.category.name == "Shirts"
    assert isinstance(tee.band, Band) and tee.band.name == "Pythonistas"
    assert [p.id for p in await shirts.get_reverse(Product)] == [product.id]


# -- get_or_create under concurrency -------------------------------------------------

CONCURRENT = 20


async def test_concurrent_get_or_create_of_one_key_all_return_the_row(db: Engine) -> None:
    # PostgreSQL: through a pool of a few connections, so the calls overlap.
    # SQLite runs a call's statements without yielding (see the thread test).
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=2, max_size=4)
    try:
        for name in ("Concurrent", "Pythonistas", "Other"):  # new, existing, new
            rows = await asyncio.gather(
                *(
                    Band.objects().get_or_create(Band.name == name, defaults={Band.popularity: 7})
                    for _ in range(CONCURRENT)
                )
            )
            assert {(type(row), row.name) for row in rows} == {(Band, name)}
            assert len({row.id for row in rows}) == 1
            assert await Band.count().where(Band.name == name) == 1
    finally:
        await db.close()


async def test_concurrent_get_or_create_in_transactions(db: Engine) -> None:
    # Each call in its own transaction: on PostgreSQL the losing INSERT waits
    # for the winner's COMMIT, then fails; the savepoint keeps its transaction
    # usable, and the re-read (a new snapshot in READ COMMITTED) finds the row.
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=2, max_size=4)

    async def in_transaction(name: str) -> tuple[Band, int]:
        async with db.transaction():
            row = await Band.objects().get_or_create(Band.name == name)
            return row, await Band.count()  # the transaction goes on

    try:
        results = await asyncio.gather(*(in_transaction("Tx") for _ in range(CONCURRENT)))
        assert len({row.id for row, _ in results}) == 1
        assert {count for _, count in results} == {4}
        assert await Band.count().where(Band.name == "Tx") == 1
    finally:
        await db.close()


def test_get_or_create_from_threads_on_sqlite(sqlite_engine: SQLiteEngine) -> None:
    # Threads overlap on SQLite (sqlite3 releases the GIL while SQLite runs):
    # several see no row, and all but one INSERT fail.
    async def setup() -> None:
        use_engine(sqlite_engine, *ALL_TABLES)
        await create_tables(*ALL_TABLES)

    asyncio.run(setup())
    barrier = threading.Barrier(CONCURRENT)
    try:

        def call(name: str) -> int:
            async def get() -> int:
                barrier.wait()
                band = await Band.objects().get_or_create(Band.name == name)
                return band.id

            return asyncio.run(get())

        for name in ("a", "b", "c"):
            with ThreadPoolExecutor(CONCURRENT) as pool:
                ids = list(pool.map(call, [name] * CONCURRENT))
            assert len(set(ids)) == 1
    finally:
        use_engine(None, *ALL_TABLES)


async def test_get_or_create_still_raises_a_violation_of_another_key(db: Engine) -> None:
    # The condition's row does not exist, and the new row collides on another
    # unique column: a re-read finds nothing, so the violation is the answer.
    with pytest.raises(UniqueViolation):
        await Band.objects().get_or_create(Band.id == 100, defaults={Band.name: "Rustaceans"})
    with pytest.raises(UniqueViolation):
        async with db.transaction():
            await Band.objects().get_or_create(
                Band.popularity == 3, defaults={Band.name: "Unmanaged"}
            )
    assert await Band.count() == 3
