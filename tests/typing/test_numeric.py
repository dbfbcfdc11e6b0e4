"""Typing of number arithmetic: SQL's promotion, in either order, and its aggregates.

Integer with integer is integer, integer with numeric (a column or a
``Decimal``) is numeric, anything with real (a column or a ``float``) is
real; the result is nullable when an operand column is. Read by mypy --strict
and pyright, never run (tests/test_numeric.py checks the values at run time).
"""

from __future__ import annotations

import decimal
from typing import assert_type

from generated.features import Nullables, Scalars
from generated.music import Band, Ticket
from runtime import Avg, Integer, Max, Min, Numeric, Real, Sum

D = decimal.Decimal


def integer_and_numeric() -> None:
    assert_type(Scalars.v_integer * Scalars.v_numeric, Numeric[D])
    assert_type(Scalars.v_numeric * Scalars.v_integer, Numeric[D])
    assert_type(Scalars.v_bigint + Scalars.v_numeric, Numeric[D])
    assert_type(Scalars.v_numeric - Scalars.v_smallint, Numeric[D])
    assert_type(Scalars.v_integer / Scalars.v_numeric, Numeric[D])
    assert_type(Scalars.v_integer * D("1.5"), Numeric[D])
    assert_type(D("1.5") * Scalars.v_integer, Numeric[D])
    assert_type(Scalars.v_numeric * 2, Numeric[D])
    assert_type(2 * Scalars.v_numeric, Numeric[D])
    assert_type(D("1") / Scalars.v_numeric, Numeric[D])
    assert_type(Scalars.v_integer * Scalars.v_bigint, Integer[int])
    assert_type(Scalars.v_integer * 2, Integer[int])


def with_real() -> None:
    assert_type(Scalars.v_integer * Scalars.v_real, Real[float])
    assert_type(Scalars.v_real * Scalars.v_integer, Real[float])
    assert_type(Scalars.v_numeric * Scalars.v_double, Real[float])
    assert_type(Scalars.v_double * Scalars.v_numeric, Real[float])
    assert_type(Scalars.v_integer * 1.5, Real[float])
    assert_type(1.5 * Scalars.v_integer, Real[float])
    assert_type(Scalars.v_numeric * 0.5, Real[float])
    assert_type(0.5 * Scalars.v_numeric, Real[float])
    assert_type(Scalars.v_real * D("2"), Real[float])
    assert_type(D("2") * Scalars.v_real, Real[float])
    assert_type(Scalars.v_real * 2, Real[float])


def nullability() -> None:
    assert_type(Nullables.v_integer * Scalars.v_numeric, Numeric[D | None])
    assert_type(Scalars.v_integer * Nullables.v_numeric, Numeric[D | None])
    assert_type(Scalars.v_numeric * Nullables.v_integer, Numeric[D | None])
    assert_type(Nullables.v_numeric * Scalars.v_integer, Numeric[D | None])
    assert_type(Nullables.v_numeric * 2, Numeric[D | None])
    assert_type(D("2") * Nullables.v_integer, Numeric[D | None])
    assert_type(Scalars.v_integer + Nullables.v_integer, Integer[int | None])
    assert_type(Nullables.v_integer + Scalars.v_integer, Integer[int | None])
    assert_type(Scalars.v_real * Nullables.v_numeric, Real[float | None])
    assert_type(Nullables.v_real * Scalars.v_integer, Real[float | None])
    assert_type(Scalars.v_integer * Nullables.v_double, Real[float | None])


def nested() -> None:
    assert_type((Scalars.v_integer * Scalars.v_numeric) * 2, Numeric[D])
    assert_type((Scalars.v_integer + 1) * Scalars.v_numeric, Numeric[D])
    assert_type(Scalars.v_integer * (Scalars.v_numeric + Scalars.v_real), Real[float])


def aggregates() -> None:
    assert_type(Sum(Scalars.v_integer * Scalars.v_numeric), Sum[D])
    assert_type(Sum(Scalars.v_numeric * Scalars.v_integer), Sum[D])
    assert_type(Avg(Scalars.v_integer * Scalars.v_numeric), Avg[D])
    assert_type(Sum(Scalars.v_integer * 2), Sum[int])
    assert_type(Avg(Scalars.v_integer * 2), Avg[float])
    assert_type(Sum(Scalars.v_integer * Scalars.v_real), Sum[float])
    assert_type(Avg(Scalars.v_numeric * 0.5), Avg[float])
    assert_type(Min(Scalars.v_integer * Scalars.v_numeric), Min[D])
    assert_type(Max(Nullables.v_integer * Scalars.v_numeric), Max[D | None])


async def selected() -> None:
    query = Ticket.select(Sum(Ticket.price * Ticket.id), Ticket.price * 2)
    assert_type(await query.output(as_tuples=True), list[tuple[D, D]])
    ratio = Band.select(Band.popularity * 0.5).output(as_list=True)
    assert_type(await ratio, list[float])


def negatives() -> None:
    Scalars.v_numeric * Scalars.v_text  # type: ignore[call-overload]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
    Scalars.v_integer * Scalars.v_text  # type: ignore[call-overload]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
    Scalars.v_real + Scalars.v_boolean  # type: ignore[call-overload]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
    Scalars.v_numeric * "2"  # type: ignore[call-overload]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
    "2" * Scalars.v_numeric  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
    Scalars.v_text + Scalars.v_numeric  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
    Scalars.v_numeric * Scalars.v_date  # type: ignore[call-overload]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
    # A numeric expression compares with Decimals, an integer one with ints.
    _ = Scalars.v_integer * Scalars.v_numeric > 1.5  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    # A numeric or real value cannot be written to an integer column.
    Band.update(popularity=Band.popularity * D("1.5"))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.update(popularity=Band.popularity * 1.5)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
