"""Types of the select features: distinct, group_by with aggregates, aliases,
output(load_json / nested), lock_rows, batch and callback.

Read by mypy --strict and pyright, never run. Negative cases carry an ignore
for each checker, and an unused ignore is itself an error.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any, assert_type

from generated.music import Band, BandRow, Concert, Manager, Shirt, Size, Ticket, Venue
from generated.shop import Product
from runtime import Avg, Batch, Callback, Count, Max, Min, Select, Sum, Varchar


def aggregate_columns() -> None:
    assert_type(Count(), Count)
    assert_type(Count(Band.id), Count)
    assert_type(Sum(Band.popularity), Sum[int])
    assert_type(Sum(Venue.capacity), Sum[int])
    assert_type(Sum(Ticket.price), Sum[decimal.Decimal])
    assert_type(Avg(Band.popularity), Avg[float])
    assert_type(Avg(Venue.capacity), Avg[float | None])
    assert_type(Avg(Ticket.price), Avg[decimal.Decimal])
    assert_type(Min(Band.name), Min[str])
    assert_type(Max(Concert.starts), Max[datetime.datetime])
    assert_type(Max(Band.manager.name), Max[str | None])
    assert_type(Min(Shirt.size), Min[Size])
    assert_type(Band.name.as_alias("n"), Varchar[str])
    assert_type(Count().as_alias("n"), Count)


async def group_by_with_aggregates() -> None:
    query = Band.select(Band.manager.name, Count()).group_by(Band.manager.name)
    assert_type(query, Select[dict[str, Any], tuple[str | None, int]])
    assert_type(await query, list[dict[str, Any]])
    tuples = query.output(as_tuples=True)
    assert_type(await tuples, list[tuple[str | None, int]])
    assert_type(await tuples.run(), list[tuple[str | None, int]])
    assert_type(tuples.run_sync(), list[tuple[str | None, int]])
    stats = Band.select(
        Band.manager.name,
        Count(Band.id).as_alias("bands"),
        Sum(Band.popularity),
        Avg(Band.popularity),
        Min(Band.name),
        Max(Band.popularity),
    ).group_by(Band.manager.name)
    assert_type(
        await stats.output(as_tuples=True),
        list[tuple[str | None, int, int, float, str, int]],
    )
    assert_type(await Band.select(Count()).output(as_list=True), list[int])
    assert_type(await Band.select(Count()).output(as_list=True).first(), int | None)
    assert_type(await Ticket.select(Sum(Ticket.price)).output(as_list=True), list[decimal.Decimal])
    assert_type(await Ticket.select(Avg(Ticket.price)).output(as_list=True), list[decimal.Decimal])
    assert_type(
        await Band.select(Band.name.as_alias("title")).output(as_list=True).run(), list[str]
    )
    top = Band.select(Band.manager.name, Count()).group_by("manager.name")
    top = top.order_by(Count(), ascending=False).limit(2)
    assert_type(await top.output(as_tuples=True), list[tuple[str | None, int]])


async def distinct_and_lock_rows() -> None:
    assert_type(await Band.select().distinct(), list[BandRow])
    on = Band.select().distinct(on=[Band.manager]).order_by(Band.manager, Band.popularity)
    assert_type(await on, list[BandRow])
    assert_type(on.run_sync(), list[BandRow])
    assert_type(await Band.select().lock_rows(), list[BandRow])
    assert_type(await Band.select().lock_rows("NO KEY UPDATE", nowait=True), list[BandRow])
    locked = Band.select(Band.name).lock_rows(skip_locked=True, of=(Band,))
    assert_type(await locked.output(as_list=True), list[str])


async def outputs() -> None:
    assert_type(await Product.select().output(load_json=True), list[dict[str, Any]])
    assert_type(
        await Product.select(Product.attributes).output(as_list=True, load_json=True), list[Any]
    )
    assert_type(
        Product.select(Product.name, Product.attributes)
        .output(as_tuples=True, load_json=True)
        .run_sync(),
        list[tuple[Any, ...]],
    )
    nested = Band.select(Band.name, Band.manager.name).output(nested=True)
    assert_type(await nested, list[dict[str, Any]])
    assert_type(await nested.first(), dict[str, Any] | None)
    assert_type(await Band.select().output(as_json=True, nested=True), str)
    assert_type(
        await Product.select().output(nested=True, load_json=True).run(), list[dict[str, Any]]
    )


async def batches() -> None:
    assert_type(Band.select().batch(batch_size=10), Batch[BandRow])
    async for rows in Band.select().batch(batch_size=100):
        assert_type(rows, list[BandRow])
    async for names in Band.select(Band.name).output(as_list=True).batch(batch_size=2):
        assert_type(names, list[str])
    async for pairs in Band.select(Band.name, Band.manager.name).output(as_tuples=True).batch():
        assert_type(pairs, list[tuple[str, str | None]])
    async for bands in Band.objects().where(Band.popularity > 1).batch(batch_size=100):
        assert_type(bands, list[Band])
    async for managers in Manager.objects().order_by(Manager.name).batch():
        assert_type(managers, list[Manager])
    async with await Band.select(Band.name).output(as_list=True).batch(batch_size=10) as batch:
        assert_type(batch, Batch[str])
        async for chunk in batch:
            assert_type(chunk, list[str])


def _names(rows: list[BandRow]) -> list[str]:
    return [row["name"] for row in rows]


async def _count_bands(bands: list[Band]) -> int:
    return len(bands)


async def callbacks() -> None:
    assert_type(Band.select().callback(_names), Callback[list[str]])
    assert_type(await Band.select().callback(_names), list[str])
    assert_type(Band.select().callback(_names).run_sync(), list[str])
    assert_type(await Band.objects().callback(_count_bands), int)
    assert_type(await Band.objects().callback(_count_bands).run(), int)
    assert_type(await Band.select(Band.name).output(as_list=True).callback(set), set[str])
    assert_type(await Band.objects().callback(len).callback(str), str)


def type_errors() -> None:
    Sum(Band.name)  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue, reportArgumentType]
    Avg(Concert.starts)  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue, reportArgumentType]
    Band.select().callback(len).where(Band.name == "x")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Band.select(Band.name, Count()).output(as_list=True)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    Band.select().lock_rows("EXCLUSIVE")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.select().batch(batch_size="10")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.select().callback(_count_bands)  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue, reportArgumentType]


async def count_arguments() -> None:
    assert_type(await Band.count(Band.manager), int)
    assert_type(await Band.count(distinct=[Band.manager, Band.popularity]), int)
    assert_type(Band.count(column=Band.manager).where(Band.popularity > 1).run_sync(), int)
    Band.count(column="manager")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
