"""Values a column cannot hold are refused before any SQL, on every value path.

The family: integer ranges (smallint, integer, bigint, serial keys and the
foreign keys to them), single-precision ``real`` (overflow and underflow),
non-finite floats (NaN on SQLite), aware datetimes in ``timestamp`` and
``time``, naive ones in ``timestamptz``, NUL in text on PostgreSQL (text
arrays included). A seeded generator draws each type's boundary values
(min, max, min - 1, max + 1, ...) and random ones; each value either
round-trips faithfully on the engine or is refused with a plain
``ValueError`` (not a driver's error) by the constructor, ``update()`` (a
mapping and keywords), ``where()`` comparisons, ``is_in``/``not_in``,
arithmetic operands and defaults, leaving the table unchanged.

Also: ``is_in``/``not_in`` with 40,000 values on both engines (one array
parameter on PostgreSQL, ``json_each`` on SQLite, whose default build allows
32,766 parameters).
"""

from __future__ import annotations

import datetime
import math
import random
import sqlite3
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runtime import (
    Array,
    BigInt,
    Bytea,
    DoublePrecision,
    Engine,
    ForeignKey,
    Integer,
    PostgresEngine,
    Real,
    SmallInt,
    SQLiteEngine,
    Table,
    Text,
    Time,
    Timestamp,
    Timestamptz,
    Varchar,
    _sql,
    create_tables,
    drop_tables,
    use_engine,
)
from runtime._dialect import POSTGRES, SQLITE


class Box(Table[Any], tablename="limits_box"):
    """A foreign key's target: its serial key has INTEGER's range."""

    label: Text[str] = Text()


class Probe(Table[Any], tablename="limits_probe"):
    """One nullable column per checked type."""

    small: SmallInt[int | None] = SmallInt(null=True)
    number: Integer[int | None] = Integer(null=True)
    big: BigInt[int | None] = BigInt(null=True)
    single: Real[float | None] = Real(null=True)
    double: DoublePrecision[float | None] = DoublePrecision(null=True)
    stamp: Timestamp[datetime.datetime | None] = Timestamp(null=True)
    stamp_tz: Timestamptz[datetime.datetime | None] = Timestamptz(null=True)
    clock: Time[datetime.time | None] = Time(null=True)
    body: Text[str | None] = Text(null=True)
    name: Varchar[str | None] = Varchar(length=20, null=True)
    words: Array[list[str] | None] = Array(Text(), null=True)
    box: ForeignKey[int | None, Box | None] = ForeignKey(lambda: Box, null=True)
    blob: Bytea[bytes | None] = Bytea(null=True)


TABLES = (Box, Probe)

#: Outcomes: the value round-trips, or each path refuses it before SQL.
OK, REFUSED = "ok", "refused"


@dataclass(frozen=True)
class Case:
    column: str
    value: object
    #: Outcome per dialect name.
    sqlite: str
    postgres: str

    def outcome(self, dialect: str) -> str:
        return self.sqlite if dialect == "sqlite" else self.postgres


def _float4(bits: int) -> float:
    """The single-precision float with these 32 bits, as a Python float."""
    value: float = struct.unpack("f", struct.pack("I", bits))[0]
    return value


def _both(column: str, value: object, outcome: str) -> Case:
    return Case(column, value, outcome, outcome)


def _cases(seed: int, randoms: int = 3) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    ranges = {"small": 15, "number": 31, "big": 63, "box": 31}
    for column, bits in ranges.items():
        low, high = -(2**bits), 2**bits - 1
        for value in (low, high, 0, -1, 1):
            if column != "box":
                cases.append(_both(column, value, OK))
        for value in (
            low - 1,
            high + 1,
            low - rng.randrange(1, 2**70),
            high + rng.randrange(2**70),
        ):
            cases.append(_both(column, value, REFUSED))
        for _ in range(randoms):
            if column != "box":
                cases.append(_both(column, rng.randint(low, high), OK))
    # Floats: single precision's extremes are exact in both engines' storage.
    flt_max, flt_min, flt_true_min = _float4(0x7F7FFFFF), _float4(0x00800000), _float4(1)
    for value in (flt_max, -flt_max, flt_min, flt_true_min, -flt_true_min, 0.0, -0.0, 1.5):
        cases.append(_both("single", value, OK))
    for value in (3.5e38, -1e39, 1e300, 1e-46, -1e-300, 10**39, 10**400):
        cases.append(_both("single", value, REFUSED))
    for _ in range(randoms):
        bits = rng.getrandbits(32)
        value = _float4(bits)
        if math.isfinite(value):
            cases.append(_both("single", value, OK))
    for value in (1.7976931348623157e308, -5e-324, 2.0**-1074, rng.uniform(-1e300, 1e300)):
        cases.append(_both("double", value, OK))
    cases.append(_both("double", 10**400, REFUSED))
    for column in ("single", "double"):
        cases.append(_both(column, math.inf, OK))
        cases.append(_both(column, -math.inf, OK))
        # SQLite binds NaN as NULL: refused there, kept on PostgreSQL.
        cases.append(Case(column, math.nan, REFUSED, OK))
    # Datetimes: timestamp is naive, timestamptz aware, time naive.
    naive = datetime.datetime(2024, 2, 29, 23, 59, 59, 999999)
    for hours in (-12, 0, 5.5, 14):
        zone = datetime.timezone(datetime.timedelta(hours=hours))
        aware = naive.replace(tzinfo=zone)
        cases.append(_both("stamp", aware, REFUSED))
        cases.append(_both("stamp_tz", aware, OK))
        cases.append(_both("clock", datetime.time(12, 30, tzinfo=zone), REFUSED))
    for value in (naive, datetime.datetime.min, datetime.datetime.max):
        cases.append(_both("stamp", value, OK))
        cases.append(_both("stamp_tz", value, REFUSED))
    cases.append(_both("clock", datetime.time(23, 59, 59, 999999), OK))
    # NUL: PostgreSQL's text cannot hold it, SQLite's can.
    for column in ("body", "name", "words"):
        for text in ("\x00", "\x00ab", "a\x00b", "ab\x00", "a\x00\x00" + "é" * rng.randrange(5)):
            value: object = [text] if column == "words" else text
            cases.append(Case(column, value, OK, REFUSED))
            if column == "words":
                cases.append(Case(column, ["fine", text], OK, REFUSED))
        plain = "".join(chr(rng.randrange(1, 0x2FF)) for _ in range(10))
        cases.append(_both(column, [plain] if column == "words" else plain, OK))
    return cases


CASES = _cases(seed=8)


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Engine]:
    if isinstance(engine, PostgresEngine):
        # Dozens of queries per test: a connection per query would dominate.
        await engine.start_connection_pool(min_size=1, max_size=2)
    use_engine(engine, *TABLES)
    await drop_tables(*TABLES, if_exists=True)
    await create_tables(*TABLES)
    try:
        await Box.insert(Box(label="a"))
        yield engine
    finally:
        await drop_tables(*TABLES, if_exists=True)
        use_engine(None, *TABLES)
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()


def _same(read: object, written: object) -> bool:
    if isinstance(written, float) and math.isnan(written):
        return isinstance(read, float) and math.isnan(read)
    return read == written


async def _refused(make: Callable[[], Any]) -> None:
    """``make()`` builds a query (or raises); running it must raise our ValueError."""
    with pytest.raises(ValueError) as raised:
        await make()
    # A driver's error (asyncpg's DataError is a ValueError too) is not enough:
    # the refusal must be the runtime's own, before anything was sent.
    assert type(raised.value) is ValueError, raised.value


async def _rows() -> list[dict[str, Any]]:
    return await Probe.select().order_by(Probe.id)


@pytest.mark.parametrize("name", sorted({case.column for case in CASES}))
async def test_boundary_values(db: Engine, name: str) -> None:
    cases = [case for case in CASES if case.column == name]
    assert {case.outcome(db.dialect.name) for case in cases} <= {OK, REFUSED}
    # One transaction: a refusal sends nothing, so it cannot abort it, and
    # SQLite then syncs the file once rather than per write.
    async with db.transaction():
        for case in cases:
            await Probe.delete(force=True)
            try:
                await _check_case(db, case)
            except BaseException as error:
                error.add_note(f"case: {case}")
                raise


async def _check_case(db: Engine, case: Case) -> None:
    column = getattr(Probe, case.column)
    value = case.value
    (anchor,) = await Probe.insert(Probe())
    before = await _rows()
    if case.outcome(db.dialect.name) == OK:
        (row,) = await Probe.insert(Probe(**{case.column: value}))
        read = await Probe.select(column).where(Probe.id == row.id).output(as_list=True)
        assert _same(read[0], value), (read, value)
        if not (isinstance(value, float) and math.isnan(value)):
            # Found again by the value itself.
            assert await Probe.count().where(column == value) == 1
            assert await Probe.count().where(column.is_in([value])) == 1
        await Probe.update({column: value}).where(Probe.id == anchor.id)
        assert await Probe.count().where(column.is_not_null()) == 2
        return
    with pytest.raises(ValueError, match=rf"\b{case.column}\b"):
        await Probe.insert(Probe(**{case.column: value}))  # the message names the column
    await _refused(lambda: Probe.insert(Probe(**{case.column: value})))
    await _refused(lambda: Probe.objects().create(**{case.column: value}))
    await _refused(lambda: Probe.update({column: value}).where(Probe.id == anchor.id))
    await _refused(lambda: Probe.update(**{case.column: value}).where(Probe.id == anchor.id))
    if case.column != "words":
        await _refused(lambda: Probe.select().where(column == value))
        await _refused(lambda: Probe.select().where(column > value))
        await _refused(lambda: Probe.count().where(column.is_in([value])))
        await _refused(lambda: Probe.count().where(column.not_in([value])))
    else:
        await _refused(lambda: Probe.count().where(column.any(value[-1])))  # type: ignore[index]
        await _refused(
            lambda: Probe.update({column: column.append(value[-1])}, force=True)  # type: ignore[index]
        )
    if isinstance(value, (int, float)) and case.column != "box":
        await _refused(lambda: Probe.update({column: column + value}).where(Probe.id == anchor.id))
        await _refused(lambda: Probe.select().where(column * value > 0))
    assert await _rows() == before


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.sqlite == c.postgres == REFUSED and c.column != "box"][::3],
    ids=lambda c: f"{c.column}={c.value!r}"[:60],
)
def test_a_default_the_column_cannot_hold_is_refused(case: Case) -> None:
    column = type(getattr(Probe, case.column))(default=case.value)

    class Defaulted(Table[Any], tablename="limits_defaulted"):
        value = column

    with pytest.raises(ValueError, match="Defaulted.value"):
        Defaulted()
    with pytest.raises(ValueError, match="Defaulted.value"):
        Defaulted(value=None)  # still refused: the default is checked first


# -- long IN lists ---------------------------------------------------------------------


class _DefaultLimitSQLite(SQLiteEngine):
    """SQLite with the default build's parameter limit (this machine's build allows
    250,000; python.org's and most others allow 32,766)."""

    def _connect(self, *, wait_in_sqlite: bool = True) -> sqlite3.Connection:
        conn = super()._connect(wait_in_sqlite=wait_in_sqlite)
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)
        return conn


@pytest.fixture(params=["sqlite", "postgres"])
def long_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        return _DefaultLimitSQLite(tmp_path / "limits.sqlite")
    engine: Engine = request.getfixturevalue("pg_engine")
    return engine


@pytest.fixture
async def long_db(long_engine: Engine) -> AsyncIterator[Engine]:
    engine = long_engine
    use_engine(engine, *TABLES)
    await drop_tables(*TABLES, if_exists=True)
    await create_tables(*TABLES)
    try:
        yield engine
    finally:
        await drop_tables(*TABLES, if_exists=True)
        use_engine(None, *TABLES)
        if isinstance(engine, SQLiteEngine):
            await engine.close()


async def test_is_in_and_not_in_with_40000_values(long_db: Engine) -> None:
    rng = random.Random(40)
    stored = rng.sample(range(-(2**31), 2**31), 300)
    texts = [f"t{n}" for n in stored]
    await Probe.insert(*(Probe(number=n, body=t) for n, t in zip(stored, texts)))
    await Probe.insert(Probe())  # NULLs: in neither IN nor NOT IN
    wanted = set(rng.sample(stored, 120))
    others = set(rng.sample(range(-(2**31), 2**31), 40_000 - len(wanted))) - set(stored)
    values = list(wanted | others)
    rng.shuffle(values)
    assert len(values) > 32_767
    found = await Probe.select(Probe.number).where(Probe.number.is_in(values)).output(as_list=True)
    assert sorted(found) == sorted(wanted)  # type: ignore[type-var]
    missed = (
        await Probe.select(Probe.number).where(Probe.number.not_in(values)).output(as_list=True)
    )
    assert sorted(missed) == sorted(set(stored) - wanted)  # type: ignore[type-var]
    # Text, with other parameters around the lists, and a derived column
    # (whose own parameter comes before the list's in the text).
    words = [f"t{n}" for n in values]
    plus_one = [v + 1 for v in values if v < 2**31 - 1]
    both = (
        (Probe.number > -(2**31))
        & Probe.body.is_in(words)
        & (Probe.number + 1).is_in(plus_one)
        & (Probe.body != "t0")
    )
    assert await Probe.count().where(both) == len(wanted)
    assert await Probe.count().where(Probe.body.not_in(words)) == 300 - len(wanted)
    # A short list after a derived column: its "?" comes first in the text.
    short = (Probe.number + 1).is_in([min(wanted) + 1, max(others) + 7])
    assert await Probe.count().where(short) == 1
    # Deletes (and updates) take the same condition.
    await Probe.delete().where(Probe.number.not_in(values))
    assert await Probe.count() == len(wanted) + 1


async def test_long_lists_json_cannot_carry(long_db: Engine) -> None:
    # bytes, text with NUL (SQLite keeps it; json_each would cut it) and
    # infinities: one parameter per value on SQLite, an array on PostgreSQL.
    blobs = [bytes([i % 256, i // 256]) for i in range(2_000)]
    await Probe.insert(Probe(blob=blobs[7], single=math.inf), Probe(blob=b"zz", single=1.0))
    assert await Probe.count().where(Probe.blob.is_in(blobs)) == 1
    assert await Probe.count().where(Probe.blob.not_in(blobs)) == 1
    floats = [float(i) for i in range(2, 2_000)] + [math.inf]
    assert await Probe.count().where(Probe.single.is_in(floats)) == 1
    # An array column's values are lists.
    await Probe.insert(Probe(words=["w7"]))
    lists = [[f"w{i}"] for i in range(1_500)]
    assert await Probe.count().where(Probe.words.is_in(lists)) == 1
    if long_db.dialect.text_holds_nul:
        await Probe.insert(Probe(body="a\x00b"), Probe(body="a"))
        texts = [f"a\x00{c}" for c in map(chr, range(98, 2_100))]
        assert await Probe.count().where(Probe.body.is_in(texts)) == 1
        assert await Probe.count().where(Probe.body.not_in(texts)) == 1


def test_long_lists_bind_one_parameter_and_are_not_cached() -> None:
    values = list(range(_sql.LONG_LIST + 1))
    query = Probe.select(Probe.id).where(Probe.number.is_in(values))
    sql, params = query._sql(POSTGRES)
    assert sql.endswith('"limits_probe"."number" = ANY($1)') and params == [values]
    sql, params = Probe.count().where(Probe.number.not_in(values))._sql(SQLITE)
    assert 'NOT IN (SELECT "value" FROM json_each(?))' in sql and len(params) == 1
    short = Probe.select(Probe.id).where(Probe.number.is_in(values[:-1]))
    assert len(short._sql(POSTGRES)[1]) == _sql.LONG_LIST
    refs: list[object] = []
    assert query._where is not None and query._where._shape([], refs) is None
