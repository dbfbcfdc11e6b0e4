"""Typing of the test-data builders (``runtime.builders``).

Read by mypy --strict and pyright, never run. ``build(Band)`` is a ``Band``
(and a ``Builder``'s too), whatever the overrides; the overrides themselves
are checked at run time (see the module doc of ``runtime.builders``: the
constructor's signature would require the ``required`` columns, which a
builder fills in), so only the options and the table argument are typed.
"""

from __future__ import annotations

from typing import assert_type

from generated.composite import PlaylistEntry
from generated.music import Band, Concert
from runtime.builders import Builder, build


async def built_rows_are_typed() -> None:
    assert_type(await build(Band), Band)
    assert_type(await build(Band, name="x", popularity=3), Band)
    assert_type(await build(Concert, {"band_1": 1}, persist=False, seed=3), Concert)
    assert_type(await build(PlaylistEntry), PlaylistEntry)
    builder = Builder(seed=1)
    assert_type(await builder.build(Band, persist=False), Band)
    assert_type((await build(Band)).name, str)
    assert_type((await build(Band)).manager, int | None)


async def negative_cases() -> None:
    await build(Band(name="x"))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await build(Band, persist="no")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await build(Band, seed="x")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Builder(seed=1.5)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    name: int = (await build(Band)).name  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    assert name
