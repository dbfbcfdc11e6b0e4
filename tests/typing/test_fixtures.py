"""Typing of fixtures (``runtime.fixtures``): ``dump`` gives the file's text
when it writes to no file, nothing when it does; ``load`` a ``LoadResult``.

Read by mypy --strict and pyright, never run.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import assert_type

from generated import music
from runtime.fixtures import LoadResult, dump, load


async def dump_and_load_are_typed() -> None:
    text = await dump(music.TABLES)
    assert_type(text, str)
    assert_type(await dump(music.TABLES, io.StringIO(), batch_size=100), None)
    assert_type(await dump([music.Band], progress=print), str)
    result = await load(text, music.TABLES, upsert=True)
    assert_type(result, LoadResult)
    assert_type(result.total, int)
    assert_type(result.rows, dict[str, int])
    assert_type(await load(Path("music.json"), music.TABLES, skip={"band"}), LoadResult)


async def negative_cases() -> None:
    await dump([music.Band()])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    await dump(music.TABLES, "music.json")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    await load(b"{}", music.TABLES)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await load("{}", music.TABLES, upsert="yes")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    count: str = (await load("{}", music.TABLES)).total  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    assert count
