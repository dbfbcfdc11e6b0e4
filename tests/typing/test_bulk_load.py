"""Typing of ``insert_many()``: it takes the table's own instances (any
iterable of them) and its result is the row count.

Read by mypy --strict and pyright, never run. Each negative line carries an
ignore for both checkers, which fail on an ignore that silences nothing.
"""

from __future__ import annotations

from typing import assert_type

from generated.music import Band, Manager
from runtime import BulkInsert


async def positive() -> None:
    rows = [Band(name=f"b{n}", popularity=n) for n in range(3)]
    query = Band.insert_many(rows)
    assert_type(query, BulkInsert)
    assert_type(await query, int)
    assert_type(await query.run(), int)
    assert_type(query.run_sync(), int)
    assert_type(await Band.insert_many(Band(name=str(n)) for n in range(3)), int)
    assert_type(await Manager.insert_many(()), int)


async def negative() -> None:
    Band.insert_many([Manager(name="m")])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    Band.insert_many([{"name": "b"}])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    Band.insert_many(Band(name="b"))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.insert_many([Band(name=1)])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    _: list[Band] = await Band.insert_many([])  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
