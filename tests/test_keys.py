"""Primary keys the database does not number (``schema/keys.yaml``).

A key that is not serial (nor uuid, whose zero default is a fresh uuid4) and
has no default has no usable zero default: ``0`` or ``""`` would repeat from
the second row on and fail with a unique violation. Such a key is required:
the constructor (both of them) refuses a row without it, and ``None``, before
any SQL; given keys round-trip on both engines.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from generated import keys
from generated.keys import Album, Artist, Country, Edition, Slot, Station, Ticker, Token
from runtime import (
    UUID,
    BigInt,
    BigSerial,
    Engine,
    ForeignKey,
    Integer,
    Serial,
    SmallInt,
    Table,
    Text,
    Varchar,
    create_tables,
    drop_tables,
    use_engine,
)

#: (table, key name, a key value for row i) for each generated table whose key
#: the constructor requires.
REQUIRED: list[tuple[type[Table[Any]], str, Callable[[int], object]]] = [
    (Artist, "id", lambda i: i + 1),
    (Country, "code", lambda i: f"{i:02d}"),
    (Ticker, "symbol", lambda i: f"T{i}"),
    (Station, "number", lambda i: 2**40 + i),
    (Slot, "number", lambda i: -i),
]


def _general(table: type[Table[Any]], **kwargs: Any) -> Table[Any]:
    row = object.__new__(table)
    Table.__init__(row, **kwargs)
    return row


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Engine]:
    use_engine(engine, *keys.TABLES)
    await drop_tables(*keys.TABLES, if_exists=True)
    await create_tables(*keys.TABLES)
    try:
        yield engine
    finally:
        await drop_tables(*keys.TABLES, if_exists=True)
        use_engine(None, *keys.TABLES)


@pytest.mark.parametrize(("table", "key", "value"), REQUIRED)
@pytest.mark.parametrize("make", [lambda t, **kw: t(**kw), _general], ids=["straight", "general"])
def test_a_key_nothing_fills_is_required(
    table: type[Table[Any]], key: str, value: Callable[[int], object], make: Any
) -> None:
    with pytest.raises(TypeError, match=rf"{table.__name__}\(\) needs {key}= \(the primary key"):
        make(table)
    with pytest.raises(ValueError, match="is not nullable; got None"):
        make(table, **{key: None})
    assert make(table, **{key: value(3)}).__dict__[key] == value(3)


def test_runtime_tables_follow_the_same_rule() -> None:
    # Hand-written tables: each non-filling key type, with and without a default.
    for column_type in (Integer, BigInt, SmallInt, Varchar, Text):

        class Plain(Table[Any], tablename="plain"):
            key = column_type(primary_key=True)

        class WithDefault(Table[Any], tablename="with_default"):
            key = column_type(primary_key=True, default=column_type()._zero())

        with pytest.raises(TypeError, match=r"Plain\(\) needs key="):
            Plain()
        assert WithDefault().__dict__["key"] == column_type()._zero()

    class Filled(Table[Any], tablename="filled"):
        a = Serial(primary_key=True)

    class Big(Table[Any], tablename="big"):
        a = BigSerial(primary_key=True)

    class Random(Table[Any], tablename="random"):
        a = UUID(primary_key=True)

    class OneToOne(Table[Any], tablename="one_to_one"):
        a = ForeignKey(lambda: Artist, primary_key=True)

    assert "a" not in Filled().__dict__ and "a" not in Big().__dict__
    assert isinstance(Random().__dict__["a"], uuid.UUID)
    with pytest.raises(TypeError, match=r"OneToOne\(\) needs a="):
        OneToOne()


async def test_rows_with_given_keys_round_trip(db: Engine) -> None:
    rng = random.Random(5)
    for table, key, value in REQUIRED:
        numbers = rng.sample(range(100), 5)
        rows = [table(**{key: value(n)}) for n in numbers]
        await table.insert(*rows[:3])
        for row in rows[3:]:
            await row.save()
        got = await table.select(getattr(table, key)).output(as_list=True)
        assert sorted(got) == sorted(value(n) for n in numbers)  # type: ignore[type-var]


async def test_keys_that_fill_themselves_insert_many_rows(db: Engine) -> None:
    # Serial and uuid keys, and keys with a default, stay optional.
    artist = await Artist.objects().create(id=7, name="x")
    await Album.insert(Album(artist=artist, title="a"), Album(artist=7, title="b"))
    await Token.insert(Token(label="a"), Token(label="b"))
    await Edition.insert(Edition())
    assert await Album.count() == 2 and await Token.count() == 2 and await Edition.count() == 1
    assert await Album.count().where(Album.artist.name == "x") == 2


async def test_a_missing_key_fails_before_any_sql(db: Engine) -> None:
    await Artist.insert(Artist(id=1, name="a"))
    with pytest.raises(TypeError, match=r"Artist\(\) needs id="):
        await Artist.insert(Artist(id=2, name="b"), Artist(name="c"))  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"Artist\(\) needs id="):
        await Artist.objects().create(name="d")  # type: ignore[call-arg]
    assert await Artist.select(Artist.id).output(as_list=True) == [1]
