"""Typing of composite primary keys and the foreign keys to them (``generated/composite.py``).

Read by mypy --strict and pyright, never run. The columns of a composite key
without a default are required keywords of the constructor and of
``objects().create()``, and no keywords of ``update()``; ``get_related``
through a foreign key over several columns gives the target row (``| None``
when its columns are nullable); the joining table of an m2m has no ``id``.
"""

from __future__ import annotations

from typing import assert_type

from generated.composite import (
    Cell,
    CellRow,
    Play,
    Playlist,
    PlaylistEntry,
    PlaylistEntryRow,
    Review,
    Song,
)
from runtime import CompositeForeignKey, Update


def the_key_columns_are_required() -> None:
    assert_type(PlaylistEntry(playlist=1, song=2), PlaylistEntry)
    assert_type(PlaylistEntry(playlist=Playlist(name="p"), song=Song(title="s")), PlaylistEntry)
    assert_type(Cell(sheet="a", row=1, value="x"), Cell)  # col has a default
    assert_type(Cell(sheet="a", row=1).row, int)


async def queries() -> None:
    assert_type(await PlaylistEntry.objects(), list[PlaylistEntry])
    found = await PlaylistEntry.objects().get(
        (PlaylistEntry.playlist == 1) & (PlaylistEntry.song == 2)
    )
    assert_type(found, PlaylistEntry | None)
    assert_type(await PlaylistEntry.select(), list[PlaylistEntryRow])
    assert_type(await Cell.select().first(), CellRow | None)
    created = await PlaylistEntry.objects().create(playlist=1, song=2, note="x")
    assert_type(created, PlaylistEntry)
    assert_type(await created.save(), None)
    assert_type(await created.remove(), None)
    assert_type(await created.refresh(), PlaylistEntry)
    assert_type(await created.get_related(PlaylistEntry.song), Song)
    assert_type(PlaylistEntry.update(note="y").where(PlaylistEntry.song == 2), Update)
    assert_type(await PlaylistEntry.insert(PlaylistEntry(playlist=1, song=3)), list[PlaylistEntry])


async def foreign_keys_over_several_columns() -> None:
    assert_type(Play.entry, CompositeForeignKey[PlaylistEntry])
    play = Play(playlist_id=1, song_id=2)
    assert_type(await play.get_related(Play.entry), PlaylistEntry)
    review = Review()
    assert_type(await review.get_related(Review.entry), PlaylistEntry | None)


async def m2m_through_a_composite_key() -> None:
    playlist = Playlist(name="p")
    assert_type(await playlist.get_m2m(Playlist.songs), list[Song])
    titles = await Playlist.select(Playlist.songs(Song.title, as_list=True)).output(as_list=True)
    assert_type(titles, list[list[str]])


async def negative_cases() -> None:
    PlaylistEntry(playlist=1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Cell(sheet="a")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    await PlaylistEntry.objects().create(song=2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    PlaylistEntry.update(song=3)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    await Play(playlist_id=1, song_id=2).get_related(Play.playlist_id)  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    Play.entry = Review.entry  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
    Play(playlist_id="1", song_id=2)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
