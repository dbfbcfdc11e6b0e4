"""Numeric arithmetic on both engines: promotion, exact results, rounding on write.

PostgreSQL computes ``numeric`` exactly; SQLite keeps numeric values as REAL
and would compute them in binary floating point, compare a bound Decimal as
text, and store an unrounded result. The runtime gives both engines
PostgreSQL's answers (``runtime/_numeric.py``). The exact cases of issue 8
come first; then a seeded generative oracle builds random expressions over
integer, numeric and real columns and literals and checks, on the same data,
that SQLite, PostgreSQL and a Python computation agree: in ``select()``, in
``where()``, in ``Sum``/``Avg``/``Min``/``Max`` and written to a
``numeric(12, 2)`` column. ``PICCOLO_GEN_NUMERIC_CASES`` sets the number of
expressions (default 40), ``PICCOLO_GEN_NUMERIC_SEED`` the seed.
"""

from __future__ import annotations

import decimal
import functools
import math
import operator
import os
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from runtime import (
    Avg,
    BigInt,
    DataError,
    DoublePrecision,
    Engine,
    Integer,
    Max,
    Min,
    Numeric,
    PostgresEngine,
    Real,
    SmallInt,
    SQLiteEngine,
    Sum,
    Table,
    Varchar,
    create_tables,
    drop_tables,
)
from runtime._numeric import divide, fit

D = decimal.Decimal
EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


class Track(Table[Any], tablename="num_track"):
    name = Varchar[str](length=40)
    unit_price = Numeric[decimal.Decimal](digits=(10, 2))
    ratio = Real[float]()


class InvoiceLine(Table[Any], tablename="num_invoice_line"):
    unit_price = Numeric[decimal.Decimal](digits=(10, 2))
    quantity = Integer[int]()
    big = BigInt[int]()
    weight = DoublePrecision[float]()


class Mix(Table[Any], tablename="num_mix"):
    i = Integer[int]()
    j = SmallInt[int]()  # never zero: a divisor
    ni = Integer[int | None](null=True)
    p = Numeric[decimal.Decimal](digits=(10, 2))
    q = Numeric[decimal.Decimal](digits=(8, 3))  # never zero
    np = Numeric[decimal.Decimal | None](digits=(10, 2), null=True)
    f = DoublePrecision[float]()  # never zero
    nf = DoublePrecision[float | None](null=True)
    w = Numeric[decimal.Decimal | None](digits=(12, 2), null=True)  # written to


TABLES = (Track, InvoiceLine, Mix)


async def _fresh(engine: Engine) -> None:
    await drop_tables(*TABLES, if_exists=True).run(engine=engine)
    await create_tables(*TABLES).run(engine=engine)


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Engine]:
    if isinstance(engine, PostgresEngine):
        # A small pool: without one every query would open a connection.
        await engine.start_connection_pool(min_size=1, max_size=2)
    await _fresh(engine)
    try:
        yield engine
    finally:
        await drop_tables(*TABLES, if_exists=True).run(engine=engine)
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()


# -- the cases of the issue ------------------------------------------------------------

PRICES = [D("0.99"), D("1.99")]


def _tracks() -> list[Track]:
    return [Track(name=f"t{n}", unit_price=PRICES[n % 7 == 0], ratio=n / 8) for n in range(60)]


def _lines() -> list[InvoiceLine]:
    return [
        InvoiceLine(unit_price=PRICES[n % 5 == 0], quantity=1 + n % 3, big=n * 10**10, weight=n / 4)
        for n in range(50)
    ]


async def test_a_numeric_expression_compares_with_a_decimal(db: Engine) -> None:
    await Track.insert(*_tracks()).run(engine=db)
    await InvoiceLine.insert(*_lines()).run(engine=db)
    lines, tracks = _lines(), _tracks()
    expected = sum(1 for x in lines if x.unit_price * x.quantity > D("1.00"))
    count = InvoiceLine.count().where(InvoiceLine.unit_price * InvoiceLine.quantity > D("1.00"))
    assert await count.run(engine=db) == expected > 0
    # SQLite used to compare REAL > TEXT, which is always false: 0 rows.
    assert await Track.count().where(Track.unit_price * 2 > D("1.5")).run(engine=db) == len(tracks)
    assert await Track.count().where(D("1.5") < 2 * Track.unit_price).run(engine=db) == 60
    assert await Track.count().where(Track.unit_price * 2 == D("3.98")).run(engine=db) == sum(
        1 for t in tracks if t.unit_price == D("1.99")
    )
    # Column with expression, both sides.
    cond = InvoiceLine.unit_price < InvoiceLine.unit_price * InvoiceLine.quantity
    assert await InvoiceLine.count().where(cond).run(engine=db) == sum(
        1 for x in lines if x.quantity > 1
    )
    isin = (InvoiceLine.unit_price * InvoiceLine.quantity).is_in([D("1.98"), D("5.97")])
    assert await InvoiceLine.count().where(isin).run(engine=db) == sum(
        1 for x in lines if x.unit_price * x.quantity in (D("1.98"), D("5.97"))
    )


async def test_a_written_numeric_is_what_reads_and_comparisons_see(db: Engine) -> None:
    await Track.insert(*_tracks()).run(engine=db)
    await Track.update({Track.unit_price: Track.unit_price * D("1.10")}, force=True).run(engine=db)
    prices = await Track.select(Track.unit_price).output(as_list=True).run(engine=db)
    # 0.99 * 1.10 = 1.089 and 1.99 * 1.10 = 2.189: rounded to 2 places when stored.
    assert set(prices) == {D("1.09"), D("2.19")}
    assert {str(p) for p in prices} == {"1.09", "2.19"}
    cheap = sum(1 for t in _tracks() if t.unit_price == D("0.99"))
    assert await Track.count().where(Track.unit_price == D("1.09")).run(engine=db) == cheap
    assert await Track.count().where(Track.unit_price * 1 == D("1.09")).run(engine=db) == cheap
    # Rounding is half away from zero, as PostgreSQL rounds on assignment.
    await Track.update({Track.unit_price: Track.unit_price - D("3.095")}, force=True).run(engine=db)
    prices = await Track.select(Track.unit_price).output(as_list=True).run(engine=db)
    assert set(prices) == {D("-2.01"), D("-0.91")}  # -2.005 -> -2.01, -0.905 -> -0.91
    # A real expression written to a numeric column is rounded too.
    await Track.update({Track.unit_price: Track.ratio * 3}, force=True).run(engine=db)
    rows = await Track.select(Track.ratio, Track.unit_price).run(engine=db)
    for row in rows:
        assert row["unit_price"] == fit(D(row["ratio"] * 3), 10, 2, "x")
        assert await Track.count().where(Track.unit_price == row["unit_price"]).run(engine=db) > 0


async def test_a_value_too_large_for_the_column_fails_the_update(db: Engine) -> None:
    await Track.insert(Track(name="a", unit_price=D("50.00"), ratio=1.0)).run(engine=db)
    query = Track.update({Track.unit_price: Track.unit_price * 10**9}, force=True)
    # PostgreSQL: numeric field overflow; SQLite: the rounding function refuses it.
    with pytest.raises(DataError, match="overflow|user-defined function"):
        await query.run(engine=db)
    assert await Track.select(Track.unit_price).output(as_list=True).run(engine=db) == [D("50.00")]


async def test_integer_times_numeric_is_numeric(db: Engine) -> None:
    await InvoiceLine.insert(*_lines()).run(engine=db)
    lines = _lines()
    total = sum((x.unit_price * x.quantity for x in lines), D(0))
    for expr in (
        InvoiceLine.quantity * InvoiceLine.unit_price,
        InvoiceLine.unit_price * InvoiceLine.quantity,
    ):
        (row,) = await InvoiceLine.select(Sum(expr), Avg(expr), Min(expr), Max(expr)).run(engine=db)
        assert type(row["sum"]) is D and str(row["sum"]) == str(total)
        assert row["avg"] == divide(total, D(len(lines))) and type(row["avg"]) is D
        assert row["min"] == D("0.99") and row["max"] == D("5.97")
        values = (
            await InvoiceLine.select(expr.as_alias("v"))
            .order_by(InvoiceLine.id)
            .output(as_list=True)
            .run(engine=db)
        )
        assert values == [x.unit_price * x.quantity for x in lines]
        assert all(type(v) is D for v in values)
    # Integer with a Decimal literal, in either order, is numeric too.
    values = (
        await InvoiceLine.select((InvoiceLine.quantity * D("0.5")).as_alias("v"))
        .order_by(InvoiceLine.id)
        .output(as_list=True)
        .run(engine=db)
    )
    assert [str(v) for v in values] == [str(x.quantity * D("0.5")) for x in lines]
    values = (
        await InvoiceLine.select((D("1") / InvoiceLine.quantity).as_alias("v"))
        .order_by(InvoiceLine.id)
        .output(as_list=True)
        .run(engine=db)
    )
    assert values == [divide(D(1), D(x.quantity)) for x in lines]
    assert str(values[1]) == "0.50000000000000000000"  # PostgreSQL's scale for 1 / 2
    # Ordering by a numeric expression orders numbers (not their text).
    ordered = (
        await InvoiceLine.select((InvoiceLine.unit_price * InvoiceLine.quantity).as_alias("v"))
        .order_by(InvoiceLine.unit_price * InvoiceLine.quantity, InvoiceLine.id)
        .output(as_list=True)
        .run(engine=db)
    )
    assert ordered == sorted(ordered) and len(set(ordered)) > 2
    by_sum = (
        await InvoiceLine.select(InvoiceLine.quantity, Sum(InvoiceLine.unit_price))
        .group_by(InvoiceLine.quantity)
        .order_by(Sum(InvoiceLine.unit_price))
        .run(engine=db)
    )
    sums = [row["sum"] for row in by_sum]
    assert sums == sorted(sums) and all(type(s) is D for s in sums)
    for average in (Avg(InvoiceLine.unit_price), Avg(InvoiceLine.unit_price * InvoiceLine.big)):
        by_avg = (
            await InvoiceLine.select(InvoiceLine.quantity, average)
            .group_by(InvoiceLine.quantity)
            .order_by(average, ascending=False)
            .run(engine=db)
        )
        averages = [row["avg"] for row in by_avg]
        assert averages == sorted(averages, reverse=True) and len(averages) == 3
        assert all(type(a) is D for a in averages)


async def test_real_promotion_and_aggregate_types(db: Engine) -> None:
    await InvoiceLine.insert(*_lines()).run(engine=db)
    await Track.insert(*_tracks()).run(engine=db)
    lines = _lines()
    (row,) = await InvoiceLine.select(
        Sum(InvoiceLine.quantity * InvoiceLine.weight).as_alias("a"),
        Sum(InvoiceLine.unit_price * InvoiceLine.weight).as_alias("b"),
        Sum(InvoiceLine.quantity * 1.5).as_alias("c"),
        Sum(InvoiceLine.unit_price * 0.5).as_alias("d"),
        Sum(InvoiceLine.quantity).as_alias("e"),
        Sum(InvoiceLine.big).as_alias("f"),
        Avg(InvoiceLine.quantity).as_alias("g"),
        Avg(InvoiceLine.weight).as_alias("h"),
        Sum(InvoiceLine.unit_price).as_alias("i"),
        Avg(InvoiceLine.unit_price).as_alias("j"),
    ).run(engine=db)
    assert {k: type(v) for k, v in row.items()} == {
        "a": float,
        "b": float,
        "c": float,
        "d": float,
        "e": int,
        "f": int,
        "g": float,
        "h": float,
        "i": D,
        "j": D,
    }
    assert row["a"] == sum(x.quantity * x.weight for x in lines)
    assert math.isclose(row["b"], sum(float(x.unit_price) * x.weight for x in lines))
    assert row["e"] == sum(x.quantity for x in lines)
    assert row["f"] == sum(x.big for x in lines)
    # PostgreSQL's numeric average of integers, as a float, on both engines.
    assert row["g"] == float(divide(D(sum(x.quantity for x in lines)), D(len(lines))))
    prices = sum((x.unit_price for x in lines), D(0))
    assert str(row["i"]) == str(prices) and row["j"] == divide(prices, D(len(lines)))
    (r,) = (
        await Track.select(
            (Track.ratio * 2).as_alias("a"), (Track.ratio + Track.unit_price).as_alias("b")
        )
        .where(Track.name == "t3")
        .run(engine=db)
    )
    assert r == {"a": 0.75, "b": 0.375 + 0.99}


async def test_non_finite_numerics_are_refused_before_sql(db: Engine) -> None:
    for bad in (D("Infinity"), D("-Infinity"), D("NaN"), D("sNaN"), math.inf, math.nan):
        with pytest.raises(ValueError, match="not a finite number"):
            Track(name="x", unit_price=bad)
        with pytest.raises(ValueError, match="not a finite number"):
            Track.update({Track.unit_price: bad}, force=True)
        with pytest.raises(ValueError, match="not a finite number"):
            Track.select().where(Track.unit_price == bad)
        with pytest.raises(ValueError, match="not a finite number"):
            Track.unit_price * D("Infinity")
    # The table stays readable (SQLite used to store the text 'Infinity').
    assert await Track.select().run(engine=db) == []


def test_expressions_refuse_what_sql_would_mistype() -> None:
    with pytest.raises(TypeError, match="not a number column"):
        Track.unit_price * Track.name  # type: ignore[operator]
    with pytest.raises(TypeError, match="not integers"):
        InvoiceLine.update({InvoiceLine.quantity: InvoiceLine.quantity * D("1.5")}, force=True)
    with pytest.raises(TypeError, match="not integers"):
        InvoiceLine.update({InvoiceLine.quantity: InvoiceLine.weight + 1}, force=True)
    with pytest.raises(TypeError, match="takes an int, a Decimal"):
        Track.unit_price * True  # type: ignore[operator]


def test_literals_are_bound_with_their_own_type_on_postgres() -> None:
    from runtime._dialect import POSTGRES

    sql, params = InvoiceLine.select((InvoiceLine.quantity * D("1.5")).as_alias("v"))._sql(POSTGRES)
    assert "CAST($1 AS NUMERIC)" in sql and params == [D("1.5")]
    sql, params = InvoiceLine.select((InvoiceLine.unit_price * 1.5).as_alias("v"))._sql(POSTGRES)
    assert "CAST($1 AS DOUBLE PRECISION)" in sql and params == [1.5]


# -- the generative oracle -----------------------------------------------------------

KINDS = ("integer", "numeric", "real")
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
}
RANK = {k: n for n, k in enumerate(KINDS)}


@dataclass
class Node:
    """An expression for both the ORM (``orm``) and the oracle (``value(row)``)."""

    orm: Any  # a column, an expression, or a literal (leaf only)
    kind: str
    value: Callable[[dict[str, Any]], Any]
    text: str
    nonzero: bool = False
    literal: bool = False


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _as(kind: str, v: Any) -> Any:
    if v is None:
        return None
    if kind == "numeric":
        return v if isinstance(v, D) else D(v)
    if kind == "real":
        return float(v)
    return v


def _apply(op: str, kind: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    a, b = _as(kind, a), _as(kind, b)
    if kind == "numeric":
        if op == "/":
            return divide(a, b)
        result = {"+": EXACT.add, "-": EXACT.subtract, "*": EXACT.multiply}[op](a, b)
        return result.copy_abs() if not result else result
    if op == "/":
        return _trunc_div(a, b) if kind == "integer" else a / b
    return {"+": a + b, "-": a - b, "*": a * b}[op]


COLUMNS = [
    ("i", "integer", False),
    ("j", "integer", True),
    ("ni", "integer", False),
    ("p", "numeric", False),
    ("q", "numeric", True),
    ("np", "numeric", False),
    ("f", "real", True),
    ("nf", "real", False),
]


def _column(rng: random.Random, *, nonzero: bool = False) -> Node:
    name, kind, never_zero = rng.choice([c for c in COLUMNS if c[2] or not nonzero])
    return Node(getattr(Mix, name), kind, lambda row, n=name: row[n], name, never_zero)


def _leaf(rng: random.Random, *, nonzero: bool) -> Node:
    if rng.random() < 0.6:
        return _column(rng, nonzero=nonzero)
    kind = rng.choice(KINDS)
    literal: Any
    if kind == "integer":
        literal = rng.choice([n for n in range(-4, 10) if n or not nonzero])
    elif kind == "numeric":
        literal = D(rng.choice([n for n in range(-999, 1000) if n or not nonzero])).scaleb(
            -rng.randint(0, 3)
        )
    else:
        literal = rng.choice([n for n in range(-16, 17) if n or not nonzero]) / 8
    return Node(literal, kind, lambda row, v=literal: v, repr(literal), literal != 0, True)


def _expression(rng: random.Random, depth: int) -> Node:
    if depth == 0:
        return _leaf(rng, nonzero=False)
    while True:
        op = rng.choice("+-*/")
        left = _expression(rng, depth - 1) if rng.random() < 0.6 else _leaf(rng, nonzero=False)
        right = (
            _leaf(rng, nonzero=True) if op == "/" else _expression(rng, rng.randint(0, depth - 1))
        )
        if not (left.literal and right.literal):
            break
    kind = max(left.kind, right.kind, key=RANK.__getitem__)
    orm = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
    }[op](left.orm, right.orm)
    return Node(
        orm,
        kind,
        lambda row: _apply(op, kind, left.value(row), right.value(row)),
        f"({left.text} {op} {right.text})",
    )


def _rows(rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for n in range(12):
        rows.append(
            {
                "i": rng.randint(-20, 20),
                "j": rng.choice([-9, -3, -1, 1, 2, 5, 7]),
                "ni": None if n % 4 == 0 else rng.randint(-9, 9),
                "p": D(rng.randint(-9999, 9999)).scaleb(-2),
                "q": D(rng.choice([-1, 1]) * rng.randint(1, 99999)).scaleb(-3),
                "np": None if n % 3 == 0 else D(rng.randint(-999, 999)).scaleb(-2),
                "f": rng.choice([-1, 1]) * rng.randint(1, 40) / 8,
                "nf": None if n % 5 == 0 else rng.randint(-40, 40) / 4,
            }
        )
    return rows


def _same(a: Any, b: Any, kind: str, exact: bool = True) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if type(a) is not type(b):
        return False
    if isinstance(a, D):
        return str(a) == str(b)  # the same number and the same scale
    if isinstance(a, float) and not exact:
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return bool(a == b)


@pytest.fixture
async def both(
    sqlite_engine: SQLiteEngine, pg_engine: PostgresEngine
) -> AsyncIterator[tuple[Engine, Engine]]:
    # A small pool: without one every query would open a connection.
    await pg_engine.start_connection_pool(min_size=1, max_size=2)
    for engine in (sqlite_engine, pg_engine):
        await _fresh(engine)
    try:
        yield sqlite_engine, pg_engine
    finally:
        await drop_tables(*TABLES, if_exists=True).run(engine=pg_engine)
        await pg_engine.close_connection_pool()


async def test_random_expressions_agree_on_both_engines_and_with_python(
    both: tuple[Engine, Engine],
) -> None:
    seed = int(os.environ.get("PICCOLO_GEN_NUMERIC_SEED", "8"))
    cases = int(os.environ.get("PICCOLO_GEN_NUMERIC_CASES", "40"))
    rng = random.Random(seed)
    rows = _rows(rng)
    for engine in both:
        await Mix.insert(*[Mix(**row) for row in rows]).run(engine=engine)
    stored = await Mix.select().order_by(Mix.id).run(engine=both[1])
    for row, read in zip(rows, stored):
        assert all(read[k] == v for k, v in row.items()), (row, read)
    for case in range(cases):
        depth = rng.choice([0, 1, 1, 2, 2, 3, 3])
        node = _expression(rng, depth) if depth else _column(rng)
        where = f"seed {seed}, case {case}: {node.text} ({node.kind})"
        expected = [node.value(row) for row in rows]
        python_type = {"integer": int, "numeric": D, "real": float}[node.kind]
        got = []
        for engine in both:
            values = (
                await Mix.select(node.orm.as_alias("v"))
                .order_by(Mix.id)
                .output(as_list=True)
                .run(engine=engine)
            )
            got.append(values)
            assert all(v is None or type(v) is python_type for v in values), (where, values)
            assert all(map(_same, values, expected, [node.kind] * len(rows))), (
                where,
                engine,
                values,
                expected,
            )
        # where(): a threshold taken from the values, and every comparison.
        present = [v for v in expected if v is not None]
        threshold = rng.choice(present) if present and rng.random() < 0.7 else _as(node.kind, 1)
        op = rng.choice(["<", "<=", "==", "!=", ">", ">="])
        condition = OPERATORS[op](node.orm, threshold)
        wanted = sum(1 for v in present if OPERATORS[op](v, threshold))
        for engine in both:
            count = await Mix.count().where(condition).run(engine=engine)
            assert count == wanted, (where, engine, op, threshold)
        # Aggregates: the same values and types on both engines, and Python's.
        aggregates = [Sum(node.orm), Avg(node.orm), Min(node.orm), Max(node.orm)]
        results = [(await Mix.select(*aggregates).run(engine=engine))[0] for engine in both]
        if node.kind == "integer":
            total: Any = sum(present)
            average: Any = float(divide(D(total), D(len(present)))) if present else None
        elif node.kind == "numeric":
            total = functools.reduce(EXACT.add, present, D(0))
            average = divide(total, D(len(present))) if present else None
        else:
            total = sum(present, 0.0)
            average = total / len(present) if present else None
        exact = node.kind != "real"
        python = {
            "sum": total if present or node.kind != "numeric" else D(0),
            "avg": average,
            "min": min(present, default=None),
            "max": max(present, default=None),
        }
        for result in results:
            for key, value in python.items():
                assert _same(result[key], value, node.kind, exact), (where, key, result, python)
        for key in python:
            assert _same(results[0][key], results[1][key], node.kind, exact), (where, key, results)
        # Written to numeric(12, 2): rounded as PostgreSQL rounds, found by ==.
        written = []
        for value in expected:
            if value is None:
                written.append(None)
                continue
            number = D(format(value, ".15g")) if isinstance(value, float) else D(value)
            try:
                written.append(fit(number, 12, 2, "w"))
            except ValueError:
                written.append("overflow")
        update = Mix.update({Mix.w: node.orm}, force=True)
        for engine in both:
            if "overflow" in written:
                with pytest.raises(DataError, match="overflow|user-defined function"):
                    await update.run(engine=engine)
                continue
            await update.run(engine=engine)
            back = await Mix.select(Mix.w).order_by(Mix.id).output(as_list=True).run(engine=engine)
            assert [None if v is None else str(v) for v in back] == [
                None if v is None else str(v) for v in written
            ], (where, engine)
            for value in {v for v in written if v is not None}:
                found = await Mix.count().where(Mix.w == value).run(engine=engine)
                assert found == written.count(value), (where, engine, value)
