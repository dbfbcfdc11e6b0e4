"""Typing of many-to-many relationships (``Band.genres``), for mypy --strict and pyright.

Never run: the checkers read it. Negative cases carry an ignore for each
checker, and an ignore that silences nothing is itself an error.
"""

from __future__ import annotations

from typing import Any, assert_type

from generated.music import Band, BandRow, Genre, GenreRow, GenreToBand, Manager, Venue
from runtime import M2M, Integer, M2MAddRelated, M2MGetRelated, M2MRemoveRelated, M2MRows, M2MSelect


def relationship_objects() -> None:
    assert_type(Band.genres, M2M[Band, Genre, GenreRow])
    assert_type(Genre.bands, M2M[Genre, Band, BandRow])
    assert_type(Band.genres(Genre.name, as_list=True), M2MSelect[list[str]])
    assert_type(Band.genres(Genre.id, as_list=True), M2MSelect[list[int]])
    assert_type(Band.genres(Genre.id, Genre.name), M2MSelect[M2MRows])
    assert_type(Band.genres(Genre.name, as_list=False), M2MSelect[M2MRows])
    assert_type(Band.genres(), M2MSelect[list[GenreRow]])
    assert_type(Genre.bands(Band.popularity, as_list=True), M2MSelect[list[int]])
    assert_type(Genre.bands(Band.manager, as_list=True), M2MSelect[list[int | None]])
    assert_type(Venue.capacity, Integer[int | None])


async def selects() -> None:
    q1 = Band.select(Band.name, Band.genres(Genre.name, as_list=True))
    assert_type(await q1, list[dict[str, Any]])
    assert_type(await q1.run(), list[dict[str, Any]])
    assert_type(q1.run_sync(), list[dict[str, Any]])
    q2 = Band.select(Band.name, Band.genres(Genre.name, as_list=True)).output(as_tuples=True)
    assert_type(await q2, list[tuple[str, list[str]]])
    assert_type(await q2.run(), list[tuple[str, list[str]]])
    assert_type(q2.run_sync(), list[tuple[str, list[str]]])
    q3 = Band.select(Band.genres(Genre.name, as_list=True)).output(as_list=True)
    assert_type(await q3, list[list[str]])
    assert_type(await q3.run(), list[list[str]])
    assert_type(q3.run_sync(), list[list[str]])
    q4 = Band.select(Band.id, Band.genres(Genre.id, Genre.name)).output(as_tuples=True)
    assert_type(await q4, list[tuple[int, M2MRows]])
    assert_type(await q4.run(), list[tuple[int, M2MRows]])
    assert_type(q4.run_sync(), list[tuple[int, M2MRows]])
    q5 = Band.select(Band.name, Band.genres()).output(as_tuples=True)
    assert_type(await q5, list[tuple[str, list[GenreRow]]])
    assert_type(await q5.run(), list[tuple[str, list[GenreRow]]])
    assert_type(q5.run_sync(), list[tuple[str, list[GenreRow]]])
    q6 = Genre.select(Genre.name, Genre.bands(Band.name, as_list=True)).output(as_tuples=True)
    assert_type(await q6, list[tuple[str, list[str]]])
    assert_type(await q6.run(), list[tuple[str, list[str]]])
    assert_type(q6.run_sync(), list[tuple[str, list[str]]])
    q7 = (
        Band.select(Band.genres(Genre.name, as_list=True))
        .where(Band.popularity > 1)
        .order_by(Band.name)
        .output(as_list=True)
        .first()
    )
    assert_type(await q7, list[str] | None)
    assert_type(await q7.run(), list[str] | None)
    assert_type(q7.run_sync(), list[str] | None)


async def links(band: Band, genre: Genre) -> None:
    add = band.add_m2m(Genre(name="Rock"), genre, m2m=Band.genres)
    assert_type(add, M2MAddRelated)
    assert_type(await add, None)
    assert_type(await add.run(), None)
    assert_type(add.run_sync(), None)
    extra = band.add_m2m(genre, m2m=Band.genres, extra_column_values={GenreToBand.id: 10})
    assert_type(await extra, None)
    get = band.get_m2m(Band.genres)
    assert_type(get, M2MGetRelated[Genre])
    assert_type(await get, list[Genre])
    assert_type(await get.run(), list[Genre])
    assert_type(get.run_sync(), list[Genre])
    back = genre.get_m2m(Genre.bands)
    assert_type(await back, list[Band])
    assert_type(await back.run(), list[Band])
    assert_type(back.run_sync(), list[Band])
    remove = band.remove_m2m(genre, m2m=Band.genres)
    assert_type(remove, M2MRemoveRelated)
    assert_type(await remove, None)
    assert_type(await remove.run(), None)
    assert_type(remove.run_sync(), None)
    assert_type(await genre.add_m2m(band, m2m=Genre.bands), None)
    assert_type(await genre.remove_m2m(band, m2m=Genre.bands), None)


def negatives(band: Band, genre: Genre, manager: Manager) -> None:
    # The relationship of another table.
    band.get_m2m(Genre.bands)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    band.add_m2m(band, m2m=Genre.bands)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # A row of the wrong table.
    band.add_m2m(manager, m2m=Band.genres)  # type: ignore[misc]  # pyright: ignore[reportArgumentType]
    band.remove_m2m(band, m2m=Band.genres)  # type: ignore[misc]  # pyright: ignore[reportArgumentType]
    # m2m is keyword-only and required.
    band.add_m2m(genre)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    band.get_m2m(Band.name)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # as_list takes exactly one column.
    Band.genres(Genre.id, Genre.name, as_list=True)  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    # Not a database column: not in the constructor, the row type or update().
    Band(genres=[])  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Band.update(genres=[])  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
