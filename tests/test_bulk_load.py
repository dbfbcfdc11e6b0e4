"""``insert_many()``: COPY on PostgreSQL, executemany in one transaction on
SQLite, on both engines.

The oracle: the database read back with raw SQL holds exactly what
``insert()`` writes for the same rows; a row ``insert()`` refuses is refused
before any SQL runs; database errors are the runtime's own, and nothing of a
refused load stays.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from generated import music, shop
from generated.music import Band, Manager
from generated.shop import Category, Product, Status
from runtime import (
    Engine,
    ProgrammingError,
    UniqueViolation,
    create_tables,
    drop_tables,
    use_engine,
)

ALL_TABLES = (*music.TABLES, *shop.TABLES)
PRODUCT_COLUMNS = "id, name, price, in_stock, released, created, attributes, status, category"


@pytest.fixture
async def tables(db: Engine) -> AsyncIterator[Engine]:
    use_engine(db, *ALL_TABLES)
    await create_tables(*ALL_TABLES)
    try:
        yield db
    finally:
        await drop_tables(*ALL_TABLES, if_exists=True)
        use_engine(None, *ALL_TABLES)


def _products(category: Category) -> list[Product]:
    return [
        Product(
            id=uuid.UUID(int=n + 1),
            name=f"p{n}",
            price=decimal.Decimal(n) / 4,
            in_stock=n % 2 == 0,
            released=datetime.date(2024, 1, 1 + n % 28) if n % 3 else None,
            created=datetime.datetime(2024, 2, 1, 12, n % 60),
            attributes=f'{{"n": {n}}}',
            status=Status.draft if n % 2 else Status.live,
            category=category,
        )
        for n in range(300)
    ]


async def _read_products(engine: Engine) -> list[tuple[Any, ...]]:
    rows = await engine.fetch(f"SELECT {PRODUCT_COLUMNS} FROM product ORDER BY name")
    return [tuple(row) for row in rows]


async def test_reads_back_as_insert_writes(tables: Engine) -> None:
    (category,) = await Category.insert(Category(name="c")).run(engine=tables)
    assert await Product.insert_many(_products(category)).run(engine=tables) == 300
    loaded = await _read_products(tables)
    await tables.execute("DELETE FROM product")
    await Product.insert(*_products(category)).run(engine=tables)
    inserted = await _read_products(tables)
    assert len(loaded) == 300
    assert loaded == inserted
    # And the query layer reads the values it was given.
    first = await Product.objects().where(Product.name == "p1").first().run(engine=tables)
    assert first is not None
    assert (first.price, first.status, first.released) == (
        decimal.Decimal("0.25"),
        Status.draft,
        datetime.date(2024, 1, 2),
    )


async def test_defaults_foreign_keys_and_mixed_columns(tables: Engine) -> None:
    (manager,) = await Manager.insert(Manager(name="m")).run(engine=tables)
    rows = [
        Band(name="a", manager=manager),
        Band(name="b", manager=manager.id, popularity=5),
        Band(id=100, name="c"),  # another group of columns: the key given
    ]
    assert await Band.insert_many(rows).run(engine=tables) == 3
    read = await tables.fetch("SELECT id, name, manager, popularity FROM band ORDER BY name")
    assert [tuple(r)[1:] for r in read] == [
        ("a", manager.id, 0),
        ("b", manager.id, 5),
        ("c", None, 0),
    ]
    assert read[2][0] == 100
    assert await Band.insert_many(iter([])).run(engine=tables) == 0


async def test_rows_from_an_iterator_are_freed_as_they_are_read(tables: Engine) -> None:
    # A large load from a generator keeps the rows' values, not the rows:
    # no row is left for the garbage collector once insert_many() returns.
    made: list[weakref.ref[Band]] = []

    def bands() -> Iterator[Band]:
        for n in range(200):
            band = Band(name=f"g{n}", popularity=n % 7)
            made.append(weakref.ref(band))
            yield band

    query = Band.insert_many(bands())
    assert len(made) == 200 and all(ref() is None for ref in made)
    assert await query.run(engine=tables) == 200
    read = await tables.fetch("SELECT name, popularity FROM band ORDER BY popularity, name")
    assert [tuple(r) for r in read] == sorted(
        ((f"g{n}", n % 7) for n in range(200)), key=lambda r: (r[1], r[0])
    )
    # A row held by its caller is read when the query runs, as insert() reads it.
    held = Band(name="held")
    later = Band.insert_many([held])
    held.popularity = 9
    assert await later.run(engine=tables) == 1
    assert (await tables.fetch("SELECT popularity FROM band WHERE name = 'held'"))[0][0] == 9


async def test_bad_rows_are_refused_before_any_sql(db: Engine) -> None:
    # No table exists: a statement sent would fail with ProgrammingError.
    with pytest.raises(TypeError, match=r"Band.insert_many\(\) takes Band rows"):
        await Band.insert_many([Band(name="a"), Manager(name="m")]).run(engine=db)  # type: ignore[list-item]
    bad = Band(name="a")
    bad.__dict__["name"] = None  # past the constructor's check
    with pytest.raises(ValueError, match="Band.name"):
        Band.insert_many([Band(name="b"), bad])
    with pytest.raises(ProgrammingError):
        await Band.insert_many([Band(name="b")]).run(engine=db)


async def test_database_errors_are_the_runtimes_and_atomic(tables: Engine) -> None:
    await Band.insert(Band(name="taken")).run(engine=tables)
    with pytest.raises(UniqueViolation) as caught:
        await Band.insert_many([Band(name=f"b{n}") for n in range(50)] + [Band(name="taken")]).run(
            engine=tables
        )
    assert caught.value.table in ("band", None)
    assert [tuple(r) for r in await tables.fetch("SELECT name FROM band")] == [("taken",)]


async def test_in_a_transaction_it_rolls_back_with_it(tables: Engine) -> None:
    with pytest.raises(LookupError):
        async with tables.transaction():
            await Band.insert_many([Band(name=f"b{n}") for n in range(10)]).run(engine=tables)
            assert (await tables.fetch("SELECT count(*) FROM band"))[0][0] == 10
            raise LookupError
    assert (await tables.fetch("SELECT count(*) FROM band"))[0][0] == 0


def test_prints_its_statement() -> None:
    assert str(Band.insert_many([Band(name="a")])) == (
        'COPY "band" ("name", "manager", "popularity") FROM STDIN (FORMAT binary)'
    )


async def test_text_with_nul_is_refused_where_the_database_cannot_hold_it(tables: Engine) -> None:
    # The same as insert() on each engine: SQLite stores NUL, PostgreSQL's text cannot.
    rows = [Band(name="a"), Band(name="b\x00c")]
    if tables.dialect.text_holds_nul:
        assert await Band.insert_many(rows).run() == 2
        read = await tables.fetch("SELECT name FROM band ORDER BY name")
        assert [r[0] for r in read] == ["a", "b\x00c"]
    else:
        with pytest.raises(ValueError, match="Band.name: postgres text cannot hold NUL"):
            await Band.insert_many(rows).run()
        assert await tables.fetch("SELECT name FROM band") == []
