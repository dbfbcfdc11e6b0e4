"""Typing of objects (create, refresh, to_dict, prefetch, reverse lookups,
get_or_create) and writes (on_conflict, returning, column arithmetic).

Read by mypy --strict and pyright, never run. Each query is asserted three
ways (``await q``, ``await q.run()``, ``q.run_sync()``); each negative line
carries an ignore for both checkers, which fail on an ignore that silences
nothing.
"""

from __future__ import annotations

import decimal
import uuid
from typing import TYPE_CHECKING, Any, assert_type

from generated.music import Band, BandRow, Concert, Manager, Ticket, Venue
from generated.shop import Category, Product
from runtime import Integer, Numeric, Objects, Update, Varchar

if TYPE_CHECKING:
    from generated.music import (
        BandObjects,
        BandWithManager,
        ConcertPrefetched,
        ConcertWithVenue,
    )


async def create_and_get_or_create() -> None:
    assert_type(Band.objects(), BandObjects)
    create = Band.objects().create(name="x", manager=1, popularity=2)
    assert_type(await create, Band)
    assert_type(await create.run(), Band)
    assert_type(create.run_sync(), Band)
    assert_type(await Venue.objects().create(capacity=None), Venue)
    chained = Band.objects().where(Band.name == "x").order_by(Band.id)
    assert_type(await chained.create(name="y"), Band)
    goc = Band.objects().get_or_create(Band.name == "x", defaults={Band.popularity: 1})
    assert_type(await goc, Band)
    assert_type(await goc.run(), Band)
    assert_type(goc.run_sync(), Band)
    named = Band.objects().get_or_create(Band.name == "x", defaults={"popularity": 1})
    assert_type(await named, Band)


async def refresh_and_to_dict(band: Band, manager: Manager) -> None:
    refresh = band.refresh()
    assert_type(await refresh, Band)
    assert_type(await refresh.run(), Band)
    assert_type(refresh.run_sync(), Band)
    assert_type(await band.refresh(columns=[Band.name, Band.popularity]), Band)
    assert_type(band.to_dict(), BandRow)
    assert_type(band.to_dict()["manager"], int | None)
    assert_type(band.to_dict(Band.name), dict[str, Any])
    assert_type(await manager.refresh(), Manager)


async def prefetch() -> None:
    q = Band.objects(Band.manager)
    assert_type(q, Objects[BandWithManager])
    bands = await q
    assert_type(bands, list[BandWithManager])
    assert_type(await q.run(), list[BandWithManager])
    assert_type(q.run_sync(), list[BandWithManager])
    assert_type(bands[0].manager, Manager | None)
    assert_type(bands[0].name, str)
    first = Band.objects(Band.manager).where(Band.popularity > 1).first()
    assert_type(await first, BandWithManager | None)
    assert_type(await first.run(), BandWithManager | None)
    assert_type(first.run_sync(), BandWithManager | None)
    got = await Band.objects(Band.manager).get_or_create(Band.name == "x")
    assert_type(got.manager, Manager | None)
    with_venue = await Concert.objects(Concert.venue).first()
    assert with_venue is not None
    assert_type(with_venue, ConcertWithVenue)
    assert_type(with_venue.venue, Venue)
    assert_type(with_venue.band_1, int)
    # Keys sharing a join class, or several keys: each is the key or the row.
    several = await Concert.objects(Concert.band_1, Concert.venue)
    assert_type(several, list[ConcertPrefetched])
    assert_type(several[0].band_1, int | Band)
    assert_type(several[0].venue, int | Venue)
    one_of_two = await Concert.objects(Concert.band_2)
    assert_type(one_of_two, list[ConcertPrefetched])
    assert_type((await Ticket.objects(Ticket.concert))[0].concert, Concert)
    # A key to another module's table, and a key to the table itself.
    product = await Product.objects(Product.band).first()
    assert product is not None
    assert_type(product.band, Band | None)
    assert_type(product.category, uuid.UUID)
    category = await Category.objects(Category.parent).first()
    assert category is not None
    assert_type(category.parent, Category | None)


async def reverse(manager: Manager, band: Band) -> None:
    q = manager.get_reverse(Band)
    assert_type(q, Objects[Band])
    assert_type(await q, list[Band])
    assert_type(await q.run(), list[Band])
    assert_type(q.run_sync(), list[Band])
    concerts = band.get_reverse(Concert, Concert.band_1).order_by(Concert.starts)
    assert_type(await concerts, list[Concert])
    assert_type(await concerts.first(), Concert | None)


async def insert_on_conflict_and_returning() -> None:
    upsert = Band.insert(Band(name="x")).on_conflict(
        target=Band.name, action="DO UPDATE", values=[Band.popularity, (Band.manager, None)]
    )
    assert_type(await upsert, list[Band])
    assert_type(await upsert.run(), list[Band])
    assert_type(upsert.run_sync(), list[Band])
    returning = Band.insert(Band(name="x")).returning(Band.id, Band.name)
    assert_type(await returning, list[dict[str, Any]])
    assert_type(await returning.run(), list[dict[str, Any]])
    assert_type(returning.run_sync(), list[dict[str, Any]])
    tuples = returning.output(as_tuples=True)
    assert_type(await tuples, list[tuple[int, str]])
    assert_type(await tuples.run(), list[tuple[int, str]])
    assert_type(tuples.run_sync(), list[tuple[int, str]])
    ids = Band.insert(Band(name="x")).on_conflict().returning(Band.id).output(as_list=True)
    assert_type(await ids, list[int])
    assert_type(await ids.run(), list[int])
    assert_type(ids.run_sync(), list[int])


async def update_delete_returning() -> None:
    update = Band.update(popularity=1).where(Band.id == 1)
    assert_type(await update, None)
    rows = update.returning(Band.name, Band.manager, Band.popularity).output(as_tuples=True)
    assert_type(await rows, list[tuple[str, int | None, int]])
    assert_type(await rows.run(), list[tuple[str, int | None, int]])
    assert_type(rows.run_sync(), list[tuple[str, int | None, int]])
    deleted = Ticket.delete().where(Ticket.id == 1).returning(Ticket.price).output(as_list=True)
    assert_type(await deleted, list[decimal.Decimal])
    assert_type(await deleted.run(), list[decimal.Decimal])
    assert_type(deleted.run_sync(), list[decimal.Decimal])
    dicts = Ticket.delete(force=True).returning(Ticket.id)
    assert_type(await dicts, list[dict[str, Any]])


def arithmetic() -> None:
    assert_type(Band.popularity + 1, Integer[int])
    assert_type(1 + Band.popularity, Integer[int])
    assert_type(Band.popularity - Band.id, Integer[int])
    assert_type(Band.popularity * 2 / 3, Integer[int])
    assert_type(Venue.capacity + 1, Integer[int | None])
    assert_type(Ticket.price * 2, Numeric[decimal.Decimal])
    assert_type(Ticket.price + decimal.Decimal("0.5"), Numeric[decimal.Decimal])
    assert_type(Band.name + "!", Varchar[str])
    assert_type("The " + Band.name, Varchar[str])
    assert_type(Band.update(popularity=Band.popularity + 1), Update)
    assert_type(Band.update(name=Band.name + "!"), Update)
    assert_type(Venue.update(capacity=Venue.capacity * 2), Update)
    assert_type(Band.update({Band.popularity: Band.popularity + 1}), Update)


def negatives(band: Band) -> None:
    Band.objects().create(nme="x")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Band.objects().create(popularity="x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.update(popularity=Band.name + "x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.update(name=Band.popularity + 1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.popularity + "x"  # type: ignore[call-overload]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
    Band.name - "x"  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
    Band.name * 2  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
    Band.manager + 1  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
    Manager.objects(Manager.name)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Band.objects(Concert.venue)  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    Band.insert(Band()).on_conflict(action="DO SOMETHING")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.insert(Band()).returning("name")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    Band.update(popularity=1).returning(Band.id, Band.name).output(as_list=True)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    band.to_dict()["nme"]  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues]
    x: str = band.to_dict()["popularity"]  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    band.get_reverse(Manager()).where(Band.id == 1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    del x
