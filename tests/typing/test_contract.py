"""The typing contract of DESIGN.md, checked by mypy --strict and pyright.

These functions are never called: the type checkers read them. Every query
shape is asserted three ways (``await q``, ``await q.run()``,
``q.run_sync()``). The negative cases at the end carry an ignore comment for
each checker; with ``warn_unused_ignores`` (mypy) and
``reportUnnecessaryTypeIgnoreComment`` (pyright) an ignore that silences
nothing is itself an error, so each line must really be a type error.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any, assert_type

from generated.music import (
    Band,
    BandJoin,
    BandRow,
    Concert,
    Manager,
    ManagerNullableJoin,
    Shirt,
    Size,
    Venue,
)
from generated.shop import Category, CategoryNullableJoin, Product, ProductRow, Status
from runtime import Integer, Numeric, Serial, Timestamp, Varchar


def columns_and_values(band: Band, concert: Concert, shirt: Shirt, venue: Venue) -> None:
    assert_type(Band.name, Varchar[str])
    assert_type(band.name, str)
    assert_type(Band.id, Serial[int])
    assert_type(band.id, int)
    assert_type(Band.popularity, Integer[int])
    assert_type(band.popularity, int)
    assert_type(Venue.capacity, Integer[int | None])
    assert_type(venue.capacity, int | None)
    assert_type(band.manager, int | None)
    assert_type(concert.band_1, int)
    assert_type(Concert.starts, Timestamp[datetime.datetime])
    assert_type(concert.starts, datetime.datetime)
    assert_type(Shirt.size, Varchar[Size])
    assert_type(shirt.size, Size)


def join_paths() -> None:
    assert_type(Band.manager, ManagerNullableJoin)
    assert_type(Band.manager.name, Varchar[str | None])
    assert_type(Band.manager.id, Serial[int | None])
    assert_type(Concert.band_1, BandJoin)
    assert_type(Concert.band_1.name, Varchar[str])
    assert_type(Concert.band_1.popularity, Integer[int])
    assert_type(Concert.band_1.manager.name, Varchar[str | None])
    assert_type(Concert.venue.capacity, Integer[int | None])


def uuid_keys_and_self_reference(product: Product, category: Category) -> None:
    assert_type(product.id, uuid.UUID)
    assert_type(product.category, uuid.UUID)
    assert_type(product.price, decimal.Decimal)
    assert_type(Product.price, Numeric[decimal.Decimal])
    assert_type(product.status, Status)
    assert_type(product.released, datetime.date | None)
    assert_type(product.attributes, str)
    assert_type(product.band, int | None)
    assert_type(category.parent, uuid.UUID | None)
    assert_type(Category.parent, CategoryNullableJoin)
    assert_type(Category.parent.parent.name, Varchar[str | None])
    assert_type(Product.category.parent.name, Varchar[str | None])
    assert_type(Product.category.name, Varchar[str])
    assert_type(Product.band.manager.name, Varchar[str | None])


def constructors() -> None:
    assert_type(Band(name="x", manager=1, popularity=2), Band)
    assert_type(Band(), Band)
    assert_type(Band(manager=Manager(name="m")), Band)
    assert_type(Product(name="p", price=decimal.Decimal("1.50")), Product)


async def objects(band: Band, concert: Concert) -> None:
    q = Band.objects()
    assert_type(await q, list[Band])
    assert_type(await q.run(), list[Band])
    assert_type(q.run_sync(), list[Band])
    chained = (
        Band.objects()
        .where(Band.name == "x", Band.popularity > 1)
        .where(Band.manager.name.like("a%") | Band.manager.is_null())
        .order_by(Band.name, ascending=False)
        .limit(10)
        .offset(5)
    )
    assert_type(await chained, list[Band])
    assert_type(await chained.run(), list[Band])
    assert_type(chained.run_sync(), list[Band])
    first = Band.objects().first()
    assert_type(await first, Band | None)
    assert_type(await first.run(), Band | None)
    assert_type(first.run_sync(), Band | None)
    get = Band.objects().get(Band.name == "x")
    assert_type(await get, Band | None)
    assert_type(await get.run(), Band | None)
    assert_type(get.run_sync(), Band | None)
    goc = Band.objects().get_or_create(Band.name == "x")
    assert_type(await goc, Band)
    assert_type(await goc.run(), Band)
    assert_type(goc.run_sync(), Band)
    related = band.get_related(Band.manager)
    assert_type(await related, Manager | None)
    assert_type(await related.run(), Manager | None)
    assert_type(related.run_sync(), Manager | None)
    related_2 = concert.get_related(Concert.band_1)
    assert_type(await related_2, Band)
    assert_type(await related_2.run(), Band)
    assert_type(related_2.run_sync(), Band)
    assert_type(await band.save(), None)
    assert_type(band.save().run_sync(), None)
    assert_type(await band.remove(), None)


async def selects() -> None:
    q = Band.select()
    assert_type(await q, list[BandRow])
    assert_type(await q.run(), list[BandRow])
    assert_type(q.run_sync(), list[BandRow])
    q1 = Band.select().where(Band.popularity >= 3).order_by(Band.name).first()
    assert_type(await q1, BandRow | None)
    assert_type(await q1.run(), BandRow | None)
    assert_type(q1.run_sync(), BandRow | None)
    q2 = Band.select(Band.name, Band.manager.name)
    assert_type(await q2, list[dict[str, Any]])
    assert_type(await q2.run(), list[dict[str, Any]])
    assert_type(q2.run_sync(), list[dict[str, Any]])
    q3 = Band.select(Band.name).output(as_list=True)
    assert_type(await q3, list[str])
    assert_type(await q3.run(), list[str])
    assert_type(q3.run_sync(), list[str])
    q4 = Band.select(Band.name, Band.manager.name).output(as_tuples=True)
    assert_type(await q4, list[tuple[str, str | None]])
    assert_type(await q4.run(), list[tuple[str, str | None]])
    assert_type(q4.run_sync(), list[tuple[str, str | None]])
    q5 = Band.select().output(as_json=True)
    assert_type(await q5, str)
    assert_type(await q5.run(), str)
    assert_type(q5.run_sync(), str)
    q6 = Band.select().freeze()
    assert_type(await q6, list[BandRow])
    assert_type(await q6.run(), list[BandRow])
    assert_type(q6.run_sync(), list[BandRow])
    q7 = Band.select("name", "manager.name")
    assert_type(await q7, list[dict[str, Any]])
    q8 = Concert.select(Concert.band_1.manager.name).output(as_list=True)
    assert_type(await q8, list[str | None])
    q9 = Band.select(Band.popularity).output(as_list=True).first()
    assert_type(await q9, int | None)
    q10 = Product.select().where(Product.status == Status.live)
    assert_type(await q10, list[ProductRow])


async def counting_and_raw() -> None:
    count = Band.count().where(Band.popularity > 1)
    assert_type(await count, int)
    assert_type(await count.run(), int)
    assert_type(count.run_sync(), int)
    exists = Band.exists().where(Band.name.ilike("%x%"))
    assert_type(await exists, bool)
    assert_type(await exists.run(), bool)
    assert_type(exists.run_sync(), bool)
    raw = Band.raw("select * from band where name = {}", "x")
    assert_type(await raw, list[dict[str, Any]])
    assert_type(await raw.run(), list[dict[str, Any]])
    assert_type(raw.run_sync(), list[dict[str, Any]])


async def writes() -> None:
    inserted = Band.insert(Band(name="a"), Band(name="b")).add(Band(name="c"))
    assert_type(await inserted, list[Band])
    assert_type(inserted.run_sync(), list[Band])
    assert_type(await Band.update(popularity=1).where(Band.name == "a"), None)
    assert_type(await Band.update({Band.popularity: 2}, force=True), None)
    assert_type(await Band.delete().where(Band.name == "a"), None)
    assert_type(await Band.delete(force=True), None)


def assignments(band: Band, manager: Manager, concert: Concert) -> None:
    # An attribute is typed as it reads: a foreign key takes its key. (At run
    # time a related row is taken too and stored as its key, as the
    # constructor does; typing that would let pyright narrow the attribute to
    # the row on assignment, which it is not.)
    assert_type(band.manager, int | None)
    band.popularity = 3
    band.manager = manager.id
    band.manager = None
    concert.band_1 = band.id
    band.manager = manager  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
    band.manager = "x"  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
    concert.band_1 = None  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
    band.name = None  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]


def negatives(band: Band) -> None:
    Band(name=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band(nme="x")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    band.popularity = "x"  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
    _ = Band.popularity > "x"  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    Band.popularity.like("x")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Band.name.is_in([1])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    Band.insert(Manager())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.update(popularity="x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Shirt.select().where(Shirt.size == "z")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    _ = Band.manager.nme  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Band.select(Band.name, Band.popularity).output(as_list=True)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    Band.objects().where(True)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Product(price=1.5)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.update(id=3)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
