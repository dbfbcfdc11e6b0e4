"""Array operations hold for any text element, on both engines.

Seeded rows of hostile elements (NUL, Unicode, quotes, backslashes, the
separators and braces of PostgreSQL's array text, JSON syntax, empty
strings) go through every array operation: ``any``/``all``/``not_any`` in
``where()`` and ``cat``/``append``/``prepend`` (also chained) in
``update()``, compared with the same operation on Python lists. PostgreSQL's
text cannot hold NUL at all, so elements with NUL run on SQLite only.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from runtime import (
    Array,
    Engine,
    Integer,
    PostgresEngine,
    Serial,
    Table,
    Text,
    create_tables,
    drop_tables,
    use_engine,
)


class Bag(Table[Any], tablename="array_bag"):
    id: Serial[int] = Serial(primary_key=True)
    words: Array[list[str] | None] = Array(Text(), null=True)
    numbers: Array[list[int] | None] = Array(Integer(), null=True)


HOSTILE = [
    "", " ", "a", "ab", "A", ",", "a,b", "{", "}", "{a}", "{}", '"', "'", "\\", "\\\\",
    "NULL", "null", "[1]", '["a"]', "ü", "é", "e\u0301", "日本", "🎸", "\n", "\t", "\x01",
    "\x7f", "\u2028",
]  # fmt: skip
#: Each shares a prefix with another element: a NUL must not end the string early.
WITH_NUL = ["\x00", "a\x00", "a\x00b", "\x00a", "ab\x00ab"]
SEED = 7007
ROWS = 16


def _elements(engine: Engine) -> list[str]:
    return HOSTILE if isinstance(engine, PostgresEngine) else HOSTILE + WITH_NUL


def _lists(elements: list[str]) -> list[list[str] | None]:
    rng = random.Random(SEED)
    lists: list[list[str] | None] = [None, [], [elements[0]] * 2]
    lists += [rng.choices(elements, k=rng.randint(1, 5)) for _ in range(ROWS)]
    return lists


@pytest.fixture
async def bags(engine: Engine) -> AsyncIterator[list[list[str] | None]]:
    """One row per list, in id order; ``numbers`` holds each list's lengths."""
    lists = _lists(_elements(engine))
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=1)
    use_engine(engine, Bag)
    await drop_tables(Bag, if_exists=True)
    await create_tables(Bag)
    await Bag.insert(
        *[Bag(words=w, numbers=None if w is None else [len(x) for x in w]) for w in lists]
    )
    try:
        yield lists
    finally:
        await drop_tables(Bag, if_exists=True)
        use_engine(None, Bag)
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()


async def _ids(condition: Any) -> list[int]:
    rows = await Bag.select(Bag.id).where(condition).order_by(Bag.id)
    return [row["id"] for row in rows]


async def _words() -> list[list[str] | None]:
    return await Bag.select(Bag.words).order_by(Bag.id).output(as_list=True)


async def test_elements_read_back(engine: Engine, bags: list[list[str] | None]) -> None:
    assert await _words() == bags


async def test_any_all_not_any(engine: Engine, bags: list[list[str] | None]) -> None:
    for value in _elements(engine):
        rows = list(enumerate(bags, start=1))
        has = [i for i, w in rows if w is not None and value in w]
        every = [i for i, w in rows if w is not None and all(x == value for x in w)]
        lacks = [i for i, w in rows if w is not None and value not in w]
        assert await _ids(Bag.words.any(value)) == has, repr(value)
        assert await _ids(Bag.words.all(value)) == every, repr(value)
        assert await _ids(Bag.words.not_any(value)) == lacks, repr(value)
    # Integer elements take the plain comparison.
    assert await _ids(Bag.numbers.any(0)) == [
        i for i, w in enumerate(bags, start=1) if w is not None and "" in w
    ]


def _updates(value: str, more: list[str]) -> list[tuple[Any, Any]]:
    """Each update value with what it does to a Python list."""
    return [
        (Bag.words.append(value), lambda w: [*w, value]),
        (Bag.words.prepend(value), lambda w: [value, *w]),
        (Bag.words.cat(more), lambda w: [*w, *more]),
        (
            Bag.words.append(value).prepend(value).cat(more),  # chained
            lambda w: [value, *w, value, *more],
        ),
    ]


async def test_cat_append_prepend(engine: Engine, bags: list[list[str] | None]) -> None:
    rng = random.Random(SEED + 1)
    expected = [list(w) if w is not None else None for w in bags]
    for _ in range(4):
        value = rng.choice(_elements(engine))
        more = rng.choices(_elements(engine), k=rng.randint(0, 3))
        for update, apply in _updates(value, more):
            await Bag.update({Bag.words: update}, force=True)
            # A null array counts as empty, as with PostgreSQL's array_cat.
            expected = [apply(w or []) for w in expected]
            assert await _words() == expected, repr(value)
