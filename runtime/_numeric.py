"""PostgreSQL's ``numeric`` rules, in Python: checks, rounding, and the SQLite functions.

PostgreSQL computes ``numeric`` exactly in decimal. SQLite has no decimal
type: a ``NUMERIC(p, s)`` column has numeric affinity and keeps a REAL (or an
INTEGER when the value is whole), and its arithmetic is binary floating point
(``1.10 * 3`` is ``3.3000000000000003``). So that a numeric expression gives
the same value on both engines, every arithmetic operator, comparison,
assignment and aggregate over a *numeric expression* compiles on SQLite to a
function registered on each connection (``register``) that computes with
:class:`decimal.Decimal` under PostgreSQL's rules:

* ``+`` and ``-``: exact, the scale is the larger of the operands' scales;
* ``*``: exact, the scale is the sum of the operands' scales;
* ``/``: rounded half away from zero to PostgreSQL's ``select_div_scale``
  (at least 16 significant digits, at least either operand's scale);
* ``sum``: exact; ``avg``: the sum divided by the count as ``/`` divides;
* assignment to ``numeric(p, s)``: rounded half away from zero to ``s``,
  refused when the integer part has more than ``p - s`` digits.

The functions return text (the exact decimal, scale included); a stored
column value enters them as SQLite holds it (REAL or INTEGER) together with
the column's scale, which restores what PostgreSQL keeps (``1.1`` in a
``numeric(5, 2)`` column is ``1.10``). Plain numeric columns compared with a
value need none of this: SQLite applies the column's affinity to the bound
text, so they keep the fast, native comparison.
"""

from __future__ import annotations

import decimal
import sqlite3
from collections.abc import Callable
from fractions import Fraction
from typing import Any, Final, TypeAlias

__all__ = ["fit", "from_sqlite", "register", "FUNCTION"]

#: A context in which ``+ - *`` are exact (no rounding at 28 digits).
_EXACT: Final = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
_ONE: Final = decimal.Decimal(1)

#: PostgreSQL's numeric.c constants: at least this many significant digits
#: in a quotient, digits per base-10000 "digit", the largest display scale.
_MIN_SIG_DIGITS: Final = 16
_DEC_DIGITS: Final = 4
_MAX_DISPLAY_SCALE: Final = 1000

#: The SQL names of the functions ``register`` creates.
FUNCTION: Final = {
    "op": "piccolo_numeric",
    "cmp": "piccolo_numeric_cmp",
    "float": "piccolo_numeric_float",
    "fit": "piccolo_numeric_fit",
    "sum": "piccolo_numeric_sum",
    "avg": "piccolo_numeric_avg",
    "min": "piccolo_numeric_min",
    "max": "piccolo_numeric_max",
}


#: What the message of a refused value names: the text, or a function giving
#: it (a column's ``_label``), called only when a value is refused.
Label: TypeAlias = "str | Callable[[], str]"


def _named(label: Label) -> str:
    return label if isinstance(label, str) else label()


def check_finite(number: decimal.Decimal, label: Label) -> decimal.Decimal:
    """``number`` if it is finite; else a ``ValueError`` naming ``label``.

    NaN and infinities are refused on both engines: SQLite cannot store them
    as numbers (the text ``'Infinity'`` lands in the column and every later
    read of it fails), PostgreSQL refuses an infinity in ``numeric(p, s)``
    and sorts NaN above every number. One rule keeps a program portable.
    """
    if not number.is_finite():
        raise ValueError(
            f"{_named(label)}: {number} is not a finite number; numeric values must be finite "
            "(SQLite cannot store NaN or infinities as numbers)"
        )
    return number


def fit(number: decimal.Decimal, precision: int, scale: int, label: Label) -> decimal.Decimal:
    """``number`` rounded to ``scale`` places, half away from zero, as PostgreSQL
    rounds a value assigned to ``numeric(precision, scale)``; a ``ValueError``
    when the integer part has more than ``precision - scale`` digits (PostgreSQL's
    "numeric field overflow")."""
    rounded = number.quantize(_ONE.scaleb(-scale), decimal.ROUND_HALF_UP, context=_EXACT)
    if rounded and rounded.adjusted() >= precision - scale:
        raise ValueError(
            f"{_named(label)}: {number} does not fit NUMERIC({precision}, {scale}) "
            f"(at most {precision - scale} digits before the point)"
        )
    return _positive_zero(rounded)


def _positive_zero(number: decimal.Decimal) -> decimal.Decimal:
    # PostgreSQL's numeric has no negative zero; Decimal does (-1 * 0 is -0).
    return number.copy_abs() if not number and number.is_signed() else number


#: Quanta and float shifts for the scales of the fast path in ``from_sqlite``.
_QUANTUM: Final = tuple(_ONE.scaleb(-scale) for scale in range(16))
_SHIFT: Final = tuple(10.0**scale for scale in range(16))
#: Integers below this have at most 15 digits: a float keeps them exactly.
_FAST_LIMIT: Final = 10**15


def from_sqlite(value: object, scale: int | None) -> decimal.Decimal | None:
    """A numeric value as SQLite gives it (INTEGER, REAL, or this module's text)
    as the decimal PostgreSQL would hold, ``scale`` places when given."""
    kind = type(value)
    if kind is float:
        assert isinstance(value, float)
        if scale is not None and 0 <= scale < 16:
            # Fast path for a stored value (it was rounded to the scale
            # before it was written): the float times 10**scale is within a
            # hair of that integer, which the general path below also gives.
            shifted = value * _SHIFT[scale]
            whole = round(shifted)
            if -_FAST_LIMIT < whole < _FAST_LIMIT and abs(shifted - whole) < 1e-6:
                return decimal.Decimal(whole).scaleb(-scale)
        # 15 significant digits: what SQLite keeps of a decimal it stores as
        # REAL, and how PostgreSQL turns a double into a numeric (float8_numeric).
        number = decimal.Decimal(format(value, ".15g"))
    elif kind is str or kind is int:
        number = decimal.Decimal(value)  # type: ignore[arg-type]
        if scale is None:
            return number  # an integer, or text this module (or a checked value) wrote
    elif value is None:
        return None
    else:
        raise TypeError(f"not a numeric value: {value!r}")
    if scale is not None:
        quantum = _QUANTUM[scale] if 0 <= scale < 16 else _ONE.scaleb(-scale)
        number = number.quantize(quantum, decimal.ROUND_HALF_UP, context=_EXACT)
    elif number.as_tuple().exponent > 0:  # type: ignore[operator]
        number = number.quantize(_ONE, context=_EXACT)  # "1e+16": scale 0, as PostgreSQL
    return _positive_zero(number)


def _text(number: decimal.Decimal | None) -> str | None:
    if number is None:
        return None
    return str(_positive_zero(number))


def _scale(number: decimal.Decimal) -> int:
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _weight_and_first_digit(number: decimal.Decimal) -> tuple[int, int]:
    """PostgreSQL's weight (the position of the first base-10000 digit) and that digit."""
    if not number:
        return 0, 0
    weight = number.adjusted() // _DEC_DIGITS
    first = int(abs(number).scaleb(-_DEC_DIGITS * weight, context=_EXACT))
    return weight, first


def divide(a: decimal.Decimal, b: decimal.Decimal) -> decimal.Decimal:
    """``a / b`` as PostgreSQL's ``numeric_div``: its result scale
    (``select_div_scale`` in numeric.c), rounded half away from zero."""
    if not b:
        raise ZeroDivisionError("division by zero")
    weight1, first1 = _weight_and_first_digit(a)
    weight2, first2 = _weight_and_first_digit(b)
    qweight = weight1 - weight2
    if first1 <= first2:
        qweight -= 1
    rscale = _MIN_SIG_DIGITS - qweight * _DEC_DIGITS
    rscale = min(max(rscale, _scale(a), _scale(b), 0), _MAX_DISPLAY_SCALE)
    quotient = Fraction(a) / Fraction(b) * 10**rscale
    numerator, denominator = abs(quotient.numerator), quotient.denominator
    rounded = (2 * numerator + denominator) // (2 * denominator)
    if quotient < 0:
        rounded = -rounded
    return _positive_zero(decimal.Decimal(rounded).scaleb(-rscale, context=_EXACT))


def _operate(op: str, a: object, b: object, scale_a: int | None, scale_b: int | None) -> str | None:
    left = from_sqlite(a, scale_a)
    right = from_sqlite(b, scale_b)
    if left is None or right is None:
        return None
    return _text(_OPERATORS[op](left, right))


_OPERATORS: Final[dict[str, Callable[[decimal.Decimal, decimal.Decimal], decimal.Decimal]]] = {
    "+": _EXACT.add,
    "-": _EXACT.subtract,
    "*": _EXACT.multiply,
    "/": divide,
}


def _compare(a: object, b: object) -> int | None:
    left = from_sqlite(a, None)
    right = from_sqlite(b, None)
    if left is None or right is None:
        return None
    return (left > right) - (left < right)


def _float(value: object) -> float | None:
    # float(Decimal) rounds correctly, as PostgreSQL's numeric -> float8 does
    # (SQLite's CAST of a long decimal text need not).
    number = from_sqlite(value, None)
    return None if number is None else float(number)


def _fit(value: object, precision: int, scale: int) -> str | None:
    number = from_sqlite(value, None)
    if number is None:
        return None
    # Raising here fails the statement (sqlite3.OperationalError: SQLite does
    # not pass a function's message on), as PostgreSQL fails it with
    # "numeric field overflow".
    return _text(fit(number, precision, scale, "numeric field overflow"))


class _Sum:
    def __init__(self) -> None:
        self.total: decimal.Decimal | None = None

    def step(self, value: object, scale: int | None) -> None:
        number = from_sqlite(value, scale)
        if number is not None:
            self.total = number if self.total is None else _EXACT.add(self.total, number)

    def finalize(self) -> str | None:
        return _text(self.total)


class _Avg(_Sum):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def step(self, value: object, scale: int | None) -> None:
        if value is not None:
            self.count += 1
        super().step(value, scale)

    def finalize(self) -> str | None:
        if self.total is None:
            return None
        # PostgreSQL's avg() of integer and numeric: numeric_div(sum, count).
        return _text(divide(self.total, decimal.Decimal(self.count)))


class _Extreme:
    lowest: bool = True

    def __init__(self) -> None:
        self.best: decimal.Decimal | None = None

    def step(self, value: object, scale: int | None) -> None:
        number = from_sqlite(value, scale)
        if number is None:
            return
        best = self.best
        if best is None or (number < best if self.lowest else number > best):
            self.best = number

    def finalize(self) -> str | None:
        return _text(self.best)


class _Min(_Extreme):
    lowest = True


class _Max(_Extreme):
    lowest = False


def register(conn: sqlite3.Connection) -> None:
    """Create this module's SQL functions on a new SQLite connection."""
    conn.create_function(FUNCTION["op"], 5, _operate, deterministic=True)
    conn.create_function(FUNCTION["cmp"], 2, _compare, deterministic=True)
    conn.create_function(FUNCTION["fit"], 3, _fit, deterministic=True)
    conn.create_function(FUNCTION["float"], 1, _float, deterministic=True)
    aggregates: dict[str, Any] = {"sum": _Sum, "avg": _Avg, "min": _Min, "max": _Max}
    for key, aggregate in aggregates.items():
        conn.create_aggregate(FUNCTION[key], 2, aggregate)
