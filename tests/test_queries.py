"""Queries on the generated music and shop modules, on SQLite and PostgreSQL.

Every test takes the ``engine`` fixture, so it runs once per engine against
a real database (a SQLite file, a PostgreSQL server).
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import AsyncIterator

import pytest

from generated import music, shop
from generated.music import Band, Concert, Manager, Shirt, Size, Ticket, Venue
from generated.shop import Category, Product, Status
from runtime import Engine, ProgrammingError, create_tables, drop_tables, use_engine

ALL_TABLES = (*music.TABLES, *shop.TABLES)


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Engine]:
    """Fresh music and shop tables on ``engine``, filled with a little data."""
    use_engine(engine, *ALL_TABLES)
    await drop_tables(*ALL_TABLES, if_exists=True)
    await create_tables(*ALL_TABLES)
    guido, graydon, mads = await Manager.insert(
        Manager(name="Guido"), Manager(name="Graydon"), Manager(name="Mads")
    )
    pythonistas, rustaceans, _, _ = await Band.insert(
        Band(name="Pythonistas", manager=guido, popularity=1000),
        Band(name="Rustaceans", manager=graydon.id, popularity=2000),
        Band(name="CSharps", manager=mads, popularity=10),
        Band(name="Unmanaged", popularity=5),
    )
    arena, _ = await Venue.insert(Venue(name="Arena", capacity=1000), Venue(name="Garage"))
    (concert,) = await Concert.insert(
        Concert(
            band_1=pythonistas,
            band_2=rustaceans,
            venue=arena,
            starts=datetime.datetime(2024, 1, 1, 20, 0),
        )
    )
    await Ticket.insert(
        Ticket(concert=concert, price=decimal.Decimal("50.00")),
        Ticket(concert=concert, price=decimal.Decimal("25.50")),
    )
    await Shirt.insert(Shirt(size=Size.small), Shirt(size=Size.large))
    try:
        yield engine
    finally:
        await drop_tables(*ALL_TABLES, if_exists=True)
        use_engine(None, *ALL_TABLES)


# -- select ------------------------------------------------------------------------


async def test_select_all_columns(db: Engine) -> None:
    rows = await Band.select().order_by(Band.id)
    assert rows == [
        {"id": 1, "name": "Pythonistas", "manager": 1, "popularity": 1000},
        {"id": 2, "name": "Rustaceans", "manager": 2, "popularity": 2000},
        {"id": 3, "name": "CSharps", "manager": 3, "popularity": 10},
        {"id": 4, "name": "Unmanaged", "manager": None, "popularity": 5},
    ]


async def test_select_columns_and_join_paths(db: Engine) -> None:
    rows = await Band.select(Band.name, Band.manager.name).order_by(Band.name)
    assert rows == [
        {"name": "CSharps", "manager.name": "Mads"},
        {"name": "Pythonistas", "manager.name": "Guido"},
        {"name": "Rustaceans", "manager.name": "Graydon"},
        {"name": "Unmanaged", "manager.name": None},
    ]
    by_name = await Band.select("name", "manager.name").order_by("name")
    assert by_name == rows


async def test_deep_join_path(db: Engine) -> None:
    rows = await Concert.select(
        Concert.band_1.name, Concert.band_1.manager.name, Concert.band_2.manager.name
    )
    assert rows == [
        {
            "band_1.name": "Pythonistas",
            "band_1.manager.name": "Guido",
            "band_2.manager.name": "Graydon",
        }
    ]
    prices = await Ticket.select(Ticket.price, Ticket.concert.venue.name).order_by(Ticket.price)
    assert prices == [
        {"price": decimal.Decimal("25.50"), "concert.venue.name": "Arena"},
        {"price": decimal.Decimal("50.00"), "concert.venue.name": "Arena"},
    ]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (lambda: Band.name == "CSharps", ["CSharps"]),
        (lambda: Band.name != "CSharps", ["Pythonistas", "Rustaceans", "Unmanaged"]),
        (lambda: Band.popularity < 10, ["Unmanaged"]),
        (lambda: Band.popularity <= 10, ["CSharps", "Unmanaged"]),
        (lambda: Band.popularity > 1000, ["Rustaceans"]),
        (lambda: Band.popularity >= 1000, ["Pythonistas", "Rustaceans"]),
        (lambda: Band.name.like("%thon%"), ["Pythonistas"]),
        (lambda: Band.name.ilike("%THON%"), ["Pythonistas"]),
        (lambda: Band.name.not_like("%a%"), []),
        (lambda: Band.name.is_in(["CSharps", "Unmanaged"]), ["CSharps", "Unmanaged"]),
        (lambda: Band.name.not_in(["CSharps"]), ["Pythonistas", "Rustaceans", "Unmanaged"]),
        (lambda: Band.name.is_in([]), []),
        (lambda: Band.popularity.not_in([]), ["CSharps", "Pythonistas", "Rustaceans", "Unmanaged"]),
        (lambda: Band.manager.is_null(), ["Unmanaged"]),
        (lambda: Band.manager.is_not_null(), ["CSharps", "Pythonistas", "Rustaceans"]),
        (lambda: Band.manager == None, ["Unmanaged"]),  # noqa: E711 - SQL IS NULL
        (lambda: (Band.popularity > 100) & (Band.name.like("R%")), ["Rustaceans"]),
        (lambda: (Band.popularity < 6) | (Band.name == "CSharps"), ["CSharps", "Unmanaged"]),
        (lambda: Band.manager.name == "Guido", ["Pythonistas"]),
        (lambda: Band.manager.name.is_null(), ["Unmanaged"]),
        (lambda: Band.manager == Band.id, ["CSharps", "Pythonistas", "Rustaceans"]),
    ],
)
async def test_where_operators(db: Engine, condition, expected) -> None:  # type: ignore[no-untyped-def]
    names = await Band.select(Band.name).where(condition()).order_by(Band.name).output(as_list=True)
    assert names == expected


async def test_where_calls_are_anded(db: Engine) -> None:
    query = Band.select(Band.name).where(Band.popularity > 5).where(Band.popularity < 2000)
    assert await query.output(as_list=True).order_by(Band.name) == ["CSharps", "Pythonistas"]


async def test_order_limit_offset_first(db: Engine) -> None:
    top = Band.select(Band.name).order_by(Band.popularity, ascending=False)
    assert await top.limit(2).output(as_list=True) == ["Rustaceans", "Pythonistas"]
    assert await top.offset(1).limit(2).output(as_list=True) == ["Pythonistas", "CSharps"]
    assert await top.offset(3).output(as_list=True) == ["Unmanaged"]
    assert await top.first() == {"name": "Rustaceans"}
    assert await Band.select().where(Band.name == "nobody").first() is None
    by_manager = (
        Band.select(Band.name).order_by(Band.manager.name).where(Band.manager.is_not_null())
    )
    assert await by_manager.output(as_list=True) == ["Rustaceans", "Pythonistas", "CSharps"]


async def test_output_modes(db: Engine) -> None:
    tuples = (
        await Band.select(Band.name, Band.manager.name).order_by(Band.id).output(as_tuples=True)
    )
    assert tuples[0] == ("Pythonistas", "Guido")
    assert tuples[3] == ("Unmanaged", None)
    text = await Band.select(Band.name, Band.popularity).order_by(Band.id).output(as_json=True)
    assert json.loads(text)[0] == {"name": "Pythonistas", "popularity": 1000}
    shirts = await Shirt.select().order_by(Shirt.id).output(as_json=True)
    assert [s["size"] for s in json.loads(shirts)] == ["s", "l"]


async def test_distinct(db: Engine) -> None:
    sizes = await Ticket.select(Ticket.concert).distinct().output(as_list=True)
    assert sizes == [1]


async def test_choices_come_back_as_enum_members(db: Engine) -> None:
    sizes = await Shirt.select(Shirt.size).order_by(Shirt.id).output(as_list=True)
    assert sizes == [Size.small, Size.large]
    assert all(isinstance(s, Size) for s in sizes)
    shirt = await Shirt.objects().get(Shirt.size == Size.large)
    assert shirt is not None and shirt.size is Size.large
    with pytest.raises(ValueError, match="not one of Size"):
        Shirt.select().where(Shirt.size == "z")  # type: ignore[arg-type]


async def test_freeze_runs_again(db: Engine) -> None:
    frozen = Band.select(Band.name).where(Band.popularity > 100).order_by(Band.name).freeze()
    first = await frozen
    await Band.insert(Band(name="Zeds", popularity=500))
    second = await frozen
    assert [r["name"] for r in first] == ["Pythonistas", "Rustaceans"]
    assert [r["name"] for r in second] == ["Pythonistas", "Rustaceans", "Zeds"]


async def test_builders_are_immutable(db: Engine) -> None:
    base = Band.select(Band.name).order_by(Band.id)
    narrowed = base.where(Band.popularity > 1000)
    assert len(await base) == 4
    assert len(await narrowed) == 1
    assert str(base) != str(narrowed)


def test_str_shows_sql() -> None:
    query = Band.select(Band.name, Band.manager.name).where(Band.popularity > 10).limit(5)
    assert str(query) == (
        'SELECT "band"."name", "band$manager"."name" FROM "band"'
        ' LEFT JOIN "manager" AS "band$manager" ON "band"."manager" = "band$manager"."id"'
        ' WHERE "band"."popularity" > 10 LIMIT 5'
    )


# -- objects ---------------------------------------------------------------------


async def test_objects(db: Engine) -> None:
    bands = await Band.objects().order_by(Band.id)
    assert [b.name for b in bands] == ["Pythonistas", "Rustaceans", "CSharps", "Unmanaged"]
    assert isinstance(bands[0], Band) and bands[0].manager == 1
    first = await Band.objects().where(Band.manager.name == "Graydon").first()
    assert first is not None and first.name == "Rustaceans"
    assert await Band.objects().get(Band.name == "nobody") is None


async def test_get_or_create(db: Engine) -> None:
    existing = await Band.objects().get_or_create(Band.name == "CSharps")
    assert existing.id == 3
    created = await Band.objects().get_or_create(
        (Band.name == "Newcomers") & (Band.popularity == 7), defaults={"manager": 1}
    )
    assert created.id == 5 and created.popularity == 7 and created.manager == 1
    row = await Band.select().where(Band.name == "Newcomers").first()
    assert row == {"id": 5, "name": "Newcomers", "manager": 1, "popularity": 7}


async def test_save_inserts_then_updates(db: Engine) -> None:
    band = Band(name="Fresh")
    assert band.popularity == 0 and band.manager is None
    await band.save()
    assert band.id == 5
    band.popularity = 42
    await band.save()
    assert await Band.select(Band.popularity).where(Band.id == 5).output(as_list=True) == [42]
    loaded = await Band.objects().get(Band.id == 5)
    assert loaded is not None
    loaded.name = "Renamed"
    await loaded.save()
    assert await Band.count().where(Band.name == "Renamed") == 1
    assert await Band.count() == 5


async def test_remove(db: Engine) -> None:
    band = await Band.objects().get(Band.name == "Unmanaged")
    assert band is not None
    await band.remove()
    assert await Band.exists().where(Band.name == "Unmanaged") is False
    assert await Band.count() == 3


async def test_get_related(db: Engine) -> None:
    band = await Band.objects().get(Band.name == "Pythonistas")
    assert band is not None
    manager = await band.get_related(Band.manager)
    assert manager is not None and manager.name == "Guido"
    lonely = await Band.objects().get(Band.name == "Unmanaged")
    assert lonely is not None
    assert await lonely.get_related(Band.manager) is None
    concert = await Concert.objects().first()
    assert concert is not None
    headliner = await concert.get_related(Concert.band_1)
    assert headliner.name == "Pythonistas"


async def test_unsaved_primary_key_is_an_error(db: Engine) -> None:
    band = Band(name="Ghost")
    with pytest.raises(AttributeError, match="has not been saved"):
        band.id  # noqa: B018
    with pytest.raises(ValueError, match="never saved"):
        await band.remove()


# -- insert, update, delete --------------------------------------------------------


async def test_insert_fills_primary_keys(db: Engine) -> None:
    rows = [Manager(name=f"m{i}") for i in range(5)]
    result = await Manager.insert(*rows[:2]).add(*rows[2:])
    assert result == rows
    assert [m.id for m in rows] == [4, 5, 6, 7, 8]
    names = await Manager.select(Manager.name).where(Manager.id >= 4).order_by(Manager.id)
    assert [n["name"] for n in names] == ["m0", "m1", "m2", "m3", "m4"]


async def test_insert_many_rows_in_chunks(db: Engine) -> None:
    rows = [Band(name=f"b{i}", popularity=i) for i in range(20_000)]
    await Band.insert(*rows)
    assert rows[-1].id == 20_004
    assert await Band.count() == 20_004


async def test_update(db: Engine) -> None:
    await Band.update(popularity=1).where(Band.name == "CSharps")
    await Band.update({Band.popularity: 3, "manager": None}).where(Band.name == "Pythonistas")
    rows = (
        await Band.select(Band.name, Band.popularity, Band.manager)
        .where(Band.name.is_in(["CSharps", "Pythonistas"]))
        .order_by(Band.name)
    )
    assert rows == [
        {"name": "CSharps", "popularity": 1, "manager": 3},
        {"name": "Pythonistas", "popularity": 3, "manager": None},
    ]


async def test_update_through_a_join(db: Engine) -> None:
    await Band.update(popularity=0).where(Band.manager.name == "Graydon")
    assert await Band.select(Band.name).where(Band.popularity == 0).output(as_list=True) == [
        "Rustaceans"
    ]


async def test_update_and_delete_refuse_without_where(db: Engine) -> None:
    with pytest.raises(ValueError, match="force=True"):
        await Band.update(popularity=0)
    with pytest.raises(ValueError, match="force=True"):
        await Band.delete()
    assert await Band.count().where(Band.popularity == 0) == 0
    await Band.update(popularity=0, force=True)
    assert await Band.count().where(Band.popularity == 0) == 4


async def test_delete(db: Engine) -> None:
    await Ticket.delete().where(Ticket.price < decimal.Decimal("30"))
    assert await Ticket.count() == 1
    await Ticket.delete(force=True)
    assert await Ticket.count() == 0


async def test_delete_through_a_join(db: Engine) -> None:
    await Ticket.delete().where(Ticket.concert.venue.name == "Arena")
    assert await Ticket.count() == 0


async def test_foreign_key_actions(db: Engine) -> None:
    # Band.manager is ON DELETE SET NULL; Concert.band_1 cascades.
    await Manager.delete().where(Manager.name == "Guido")
    assert await Band.select(Band.manager).where(Band.name == "Pythonistas").output(
        as_list=True
    ) == [None]
    await Band.delete().where(Band.name == "Pythonistas")
    assert await Concert.count() == 0


async def test_count_and_exists(db: Engine) -> None:
    assert await Band.count() == 4
    assert await Band.count().where(Band.manager.name.like("G%")) == 2
    assert await Band.exists().where(Band.name == "CSharps") is True
    assert await Band.exists().where(Band.name == "nobody") is False


async def test_count_column_and_distinct(db: Engine) -> None:
    await Band.insert(Band(name="Second", manager=1), Band(name="Third"))
    assert await Band.count(Band.manager) == 4  # NULL keys are not counted
    assert await Band.count(distinct=[Band.manager]) == 3
    # (manager, popularity) pairs: (1, 1000) (2, 2000) (3, 10) (1, 0) (None, 0)
    await Band.update(popularity=0).where(Band.manager.is_null())
    assert await Band.count(distinct=[Band.manager, Band.popularity]) == 5
    # a combination whose columns are all NULL is left out, like NULL for one column
    assert await Band.count(distinct=[Band.manager, Band.manager.name]) == 3
    assert await Band.count(distinct=[Band.manager.name]).where(Band.popularity > 5) == 3
    with pytest.raises(ValueError, match="not both"):
        Band.count(Band.manager, distinct=[Band.name])


# -- bad values raise before the database ----------------------------------------------


async def test_bad_values_raise_before_the_database(db: Engine) -> None:
    with pytest.raises(TypeError, match="Band.name expects str"):
        Band(name=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="no column nme"):
        Band(nme="x")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="at most 50 characters"):
        Band(name="x" * 51)
    with pytest.raises(TypeError, match="Band.popularity expects int"):
        Band.select().where(Band.popularity > "x")  # type: ignore[operator]
    with pytest.raises(TypeError):
        Band.update(popularity="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not nullable"):
        await Band.insert(Band(name=None))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes Band rows"):
        Band.insert(Manager())  # type: ignore[arg-type]
    assert await Band.count() == 4


async def test_values_are_parameters_not_sql(db: Engine) -> None:
    evil = "x'); DROP TABLE band; --"
    await Band.insert(Band(name=evil))
    assert await Band.select(Band.name).where(Band.name == evil).output(as_list=True) == [evil]
    assert await Band.count() == 5


# -- raw and DDL ---------------------------------------------------------------------


async def test_raw(db: Engine) -> None:
    rows = await Band.raw(
        "SELECT name, popularity FROM band WHERE popularity > {} AND name != {} ORDER BY name",
        5,
        "CSharps",
    )
    assert rows == [
        {"name": "Pythonistas", "popularity": 1000},
        {"name": "Rustaceans", "popularity": 2000},
    ]
    with pytest.raises(ValueError, match="placeholder"):
        Band.raw("SELECT {}")


async def test_create_table_if_not_exists(db: Engine) -> None:
    await Band.create_table(if_not_exists=True)
    assert await Band.count() == 4
    with pytest.raises(ProgrammingError, match="(?i)already exists"):
        await Band.create_table()


# -- the shop: uuid keys, self reference, cross-file keys, more types -------------------------


async def test_shop_types_round_trip(db: Engine) -> None:
    root = Category(name="Merch")
    await root.save()
    shirts = Category(name="Shirts", parent=root)
    await shirts.save()
    band = await Band.objects().get(Band.name == "Pythonistas")
    product = Product(
        name="Tour shirt",
        price=decimal.Decimal("19.99"),
        released=datetime.date(2024, 5, 1),
        attributes={"colour": "black"},
        status=Status.live,
        category=shirts.id,
        band=band,
        weight_kg=0.25,
    )
    assert isinstance(product.id, uuid.UUID)
    assert product.in_stock is True
    await Product.insert(product)
    row = await Product.select().where(Product.id == product.id).first()
    assert row is not None
    assert row["id"] == product.id and isinstance(row["id"], uuid.UUID)
    assert row["price"] == decimal.Decimal("19.99")
    assert row["in_stock"] is True
    assert row["released"] == datetime.date(2024, 5, 1)
    assert isinstance(row["created"], datetime.datetime)
    assert json.loads(row["attributes"]) == {"colour": "black"}
    assert row["status"] is Status.live
    assert row["category"] == shirts.id
    assert row["band"] == 1
    assert row["weight_kg"] == 0.25
    paths = await Product.select(
        Product.category.name, Product.category.parent.name, Product.band.manager.name
    ).first()
    assert paths == {
        "category.name": "Shirts",
        "category.parent.name": "Merch",
        "band.manager.name": "Guido",
    }
    parent = await shirts.get_related(Category.parent)
    assert parent is not None and parent.id == root.id
    assert await root.get_related(Category.parent) is None
    loaded = await Product.objects().get(Product.released > datetime.date(2024, 1, 1))
    assert loaded is not None and loaded.created == row["created"]
    assert loaded.status is Status.live


# -- transactions with queries -----------------------------------------------------------


async def test_transaction_rolls_back_queries(db: Engine) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction():
            await Band.insert(Band(name="Doomed"))
            assert await Band.count() == 5
            raise RuntimeError("boom")
    assert await Band.count() == 4
    async with db.transaction():
        await Band.insert(Band(name="Kept"))
    assert await Band.count() == 5


def test_run_sync_in_a_plain_function(engine: Engine) -> None:
    use_engine(engine, *ALL_TABLES)
    try:
        drop_tables(*ALL_TABLES, if_exists=True).run_sync()
        create_tables(*ALL_TABLES).run_sync()
        Manager.insert(Manager(name="Sync")).run_sync()
        for _ in range(3):
            assert Manager.select(Manager.name).output(as_list=True).run_sync() == ["Sync"]
        assert Manager.count().run_sync() == 1
    finally:
        drop_tables(*ALL_TABLES, if_exists=True).run_sync()
        use_engine(None, *ALL_TABLES)
