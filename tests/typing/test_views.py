"""Typing of views (``generated.reports``): reading them as tables are read,
and writing them refused.

Read by mypy --strict and pyright, never run. Each query is asserted three
ways (``await q``, ``await q.run()``, ``q.run_sync()``); each negative line
carries an ignore for both checkers, which fail on an ignore that silences
nothing: a write of a view is a call that no argument list satisfies (a
required keyword ``a_view_is_read_only`` of type ``Never``).
"""

from __future__ import annotations

import datetime
from typing import Any, assert_type

from generated.music import Band, Manager
from generated.reports import (
    VIEWS,
    BandConcerts,
    BandConcertsRow,
    ConcertDay,
    ConcertDayRow,
    PopularBand,
    PopularBandRow,
)
from runtime import (
    BigInt,
    CountQuery,
    Exists,
    First,
    Integer,
    RefreshView,
    Select,
    Varchar,
    ViewObjects,
    create_tables,
    drop_tables,
)


async def select_rows() -> None:
    q = PopularBand.select()
    assert_type(q, Select[PopularBandRow, tuple[Any, ...]])
    assert_type(await q, list[PopularBandRow])
    assert_type(await q.run(), list[PopularBandRow])
    assert_type(q.run_sync(), list[PopularBandRow])
    rows = await ConcertDay.select().where(ConcertDay.venue == "Arena").order_by(ConcertDay.day)
    assert_type(rows, list[ConcertDayRow])
    assert_type(rows[0]["day"], datetime.date)
    assert_type(await BandConcerts.select().first(), BandConcertsRow | None)
    names = await PopularBand.select(PopularBand.name).output(as_list=True)
    assert_type(names, list[str])
    pairs = PopularBand.select(PopularBand.name, PopularBand.manager_name).output(as_tuples=True)
    assert_type(await pairs, list[tuple[str, str | None]])
    assert_type(pairs.run_sync(), list[tuple[str, str | None]])


async def columns_and_joins() -> None:
    assert_type(PopularBand.name, Varchar[str])
    assert_type(PopularBand.manager_name, Varchar[str | None])
    assert_type(PopularBand.popularity, Integer[int])
    assert_type(BandConcerts.concerts, BigInt[int])
    # A view's foreign key is a join path to the table.
    assert_type(PopularBand.band.name, Varchar[str])
    assert_type(PopularBand.band.manager.name, Varchar[str | None])
    joined = await PopularBand.select(PopularBand.band.name, PopularBand.popularity).output(
        as_tuples=True
    )
    assert_type(joined, list[tuple[str, int]])


async def objects_rows(popular: PopularBand) -> None:
    q = PopularBand.objects()
    assert_type(q, ViewObjects[PopularBand])
    assert_type(await q, list[PopularBand])
    assert_type(await q.run(), list[PopularBand])
    assert_type(q.run_sync(), list[PopularBand])
    chained = PopularBand.objects().where(PopularBand.popularity > 1).order_by(PopularBand.name)
    assert_type(chained, ViewObjects[PopularBand])
    first = PopularBand.objects().first()
    assert_type(first, First[PopularBand])
    assert_type(await first, PopularBand | None)
    assert_type(first.run_sync(), PopularBand | None)
    got = await BandConcerts.objects().get(BandConcerts.band == 1)
    assert_type(got, BandConcerts | None)
    assert_type(popular.name, str)
    assert_type(popular.manager_name, str | None)
    assert_type(popular.band, int)
    assert_type(popular.to_dict(), PopularBandRow)
    assert_type(await popular.get_related(PopularBand.band), Band)
    assert_type(await popular.get_related(PopularBand.band.manager), Manager | None)


async def counts_and_refresh() -> None:
    assert_type(PopularBand.count(), CountQuery)
    assert_type(await PopularBand.count().where(PopularBand.popularity > 100), int)
    assert_type(ConcertDay.exists(), Exists)
    assert_type(await ConcertDay.exists(), bool)
    refresh = BandConcerts.refresh()
    assert_type(refresh, RefreshView)
    assert_type(await refresh, None)
    assert_type(await refresh.run(), None)
    assert_type(refresh.run_sync(), None)
    assert_type(await BandConcerts.refresh(concurrently=True), None)
    assert_type(VIEWS, tuple[type[PopularBand], type[ConcertDay], type[BandConcerts]])
    await create_tables(*VIEWS)
    await drop_tables(*VIEWS, if_exists=True)


async def writes_are_type_errors(popular: PopularBand, band: Band) -> None:
    PopularBand.insert(popular)  # type: ignore[arg-type, call-arg]  # pyright: ignore[reportCallIssue]
    PopularBand.insert()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    PopularBand.insert_many([popular])  # type: ignore[arg-type, call-arg]  # pyright: ignore[reportCallIssue]
    PopularBand.update(popularity=1, force=True)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    PopularBand.update({PopularBand.popularity: 1})  # type: ignore[arg-type, call-arg]  # pyright: ignore[reportCallIssue]
    PopularBand.delete(force=True)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    PopularBand.delete()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    BandConcerts.delete().where(BandConcerts.band == 1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    popular.save()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    popular.remove()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    popular.refresh()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    PopularBand.alter()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    PopularBand(name="x")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    PopularBand.objects().create(name="x")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    PopularBand.objects().get_or_create(PopularBand.name == "x")  # type: ignore[arg-type, call-arg]  # pyright: ignore[reportCallIssue]
    # A plain view has no refresh(); a materialized view's takes no row.
    ConcertDay.refresh()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    BandConcerts.refresh(concurrently="yes")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # Reading stays typed: a wrong value is an error as on a table.
    _ = PopularBand.popularity > "x"  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    # A table's write does not take a view's row.
    Band.insert(popular)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert band
