"""Aggregate functions for ``select()``: ``Count``, ``Sum``, ``Avg``, ``Min``, ``Max``.

An aggregate is a :class:`Column` of its result type, so it takes a place in
the positional ``select()`` overloads like any column and
``Band.select(Band.manager.name, Count()).output(as_tuples=True)`` is typed
``list[tuple[str | None, int]]``. Result types, the same on both engines:

* ``Count()`` / ``Count(col)``: ``int``;
* ``Sum(col)``: the column's type without ``None`` (``COALESCE(SUM(col), 0)``,
  so a sum over no rows is ``0``, never ``NULL``): ``int`` for integer
  columns (PostgreSQL's ``bigint`` or ``numeric`` sum), ``Decimal`` for
  numeric ones (exact), ``float`` for real ones;
* ``Avg(col)``: ``float`` for integer and real columns, ``Decimal`` for
  numeric ones; ``None`` added when the column is nullable. PostgreSQL
  averages integers and numerics as ``numeric`` (the sum divided by the
  count, to at least 16 significant digits): an integer average is that
  number as a float;
* ``Min(col)`` / ``Max(col)``: the column's type.

``Avg``, ``Min`` and ``Max`` of zero rows are ``NULL`` in SQL. With
``group_by()`` a group always has a row; without it, on an empty selection,
they give ``None`` (as in SQLAlchemy, the types assume at least one row).

On SQLite, the sums and averages of integer and numeric values, and the
minimum and maximum of numeric expressions, are computed by the functions of
``_numeric`` under PostgreSQL's rules, so both engines give the same numbers
(SQLite's own SUM and AVG of REAL values are binary floating point).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

from ._columns import Column, Numeric
from ._dialect import Dialect
from ._expr import Kind, _static_scale, kind_of
from ._numeric import FUNCTION, divide, from_sqlite
from ._sql import enum_position, order_term

if TYPE_CHECKING:
    from ._sql import Compiler

__all__ = ["Aggregate", "Count", "Sum", "Avg", "Min", "Max"]

T = TypeVar("T")


class Aggregate(Column[T]):
    """An SQL aggregate over a column, selectable like a column of type ``T``.

    Its default output key is the function's name (``count``, ``sum``, ...);
    ``as_alias("n")`` names it. Aggregates go in ``select()`` and
    ``order_by()``; they are not conditions (there is no ``HAVING``).
    """

    _function: ClassVar[str] = ""
    _plain: ClassVar[bool] = False
    #: ``MIN``/``MAX``: by the column's order (an enum's, where the database
    #: has no enum types: see ``_sql.enum_position``).
    _by_order: ClassVar[bool] = False
    # ``_decimal_text``, set per instance: on SQLite the aggregate is computed
    # by ``_numeric``'s function of its name (exact decimal text) rather than
    # by SQLite's own.

    def __init__(self, column: Column[Any] | None) -> None:
        super().__init__(null=True)
        if column is not None and (not isinstance(column, Column) or isinstance(column, Aggregate)):
            raise TypeError(f"{type(self).__name__}() takes a column; got {column!r}")
        self._column = column
        self._meta.name = self._function.lower()

    def _expression(self, c: Compiler) -> str:
        """The aggregate's SQL, columns qualified (and joined) through ``c``."""
        column = self._column
        if column is None:
            return f"{self._function}(*)"
        argument = c.column(column)
        if self._by_order and column._enum_values and not c.dialect.native_enums:
            # The least or greatest position in the enum, back as its value.
            values = column._enum_values
            found = f"{self._function}({enum_position(column, argument)})"
            whens = " ".join(
                f"WHEN {position} THEN '{value.replace(chr(39), chr(39) * 2)}'"
                for position, value in enumerate(values)
            )
            return f"(CASE {found} {whens} END)"
        if self._decimal_text and not c.dialect.exact_numeric:
            fast = self._sqlite_native(c, column, argument)
            if fast is not None:
                return fast
            exact = FUNCTION[self._function.lower()]
            return f"{exact}({argument}, {_static_scale(column)})"
        return f"{self._function}({argument})"

    def _sqlite_native(self, c: Compiler, column: Column[Any], argument: str) -> str | None:
        """Exact SQL of SQLite's own for this aggregate, if there is one
        (faster than ``_numeric``'s Python functions); ``None`` otherwise."""
        return None

    def _order_expression(self, c: Compiler) -> str:
        """The aggregate as an ``ORDER BY`` term."""
        return order_term(c, self, self._expression(c))

    def _check(self, value: object) -> Any:
        raise TypeError(
            f"{type(self).__name__}() cannot be compared in where(): aggregates "
            "are for select() and order_by()"
        )

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        return None if self._column is None else self._column._from_db(dialect)

    def _label(self) -> str:
        return f"{type(self).__name__}({'' if self._column is None else self._column._label()})"

    def __repr__(self) -> str:
        return f"<{self._label()}>"


def _numeric_kind(column: Column[Any], function: str) -> Kind:
    """Which number kind ``column``'s values are (a foreign key: its target key's)."""
    kind = kind_of(column)
    if kind is None:
        raise TypeError(f"{function}() takes a numeric column; got {column!r}")
    return kind


def _int(value: Any) -> Any:
    return None if value is None else int(value)


def _float(value: Any) -> Any:
    return None if value is None else float(value)


def _scaled_sum(column: Column[Any], argument: str) -> str | None:
    """``SUM`` of a plain ``numeric(p, s)`` column on SQLite, exactly: the sum
    of its values times ``10**s`` (integers) as decimal text with scale ``s``
    (``'109E-2'`` is 1.09); ``None`` when that cannot be used.

    A stored value was rounded to ``s`` places before it was written, so its
    REAL times ``10**s`` rounds to that integer exactly while ``p <= 18``
    (the integers stay within SQLite's 64-bit INTEGER, whose SUM raises
    "integer overflow" rather than losing digits). Over no rows it is NULL.
    """
    if column._expr is not None or not isinstance(column, Numeric) or column.digits is None:
        return None
    precision, scale = column.digits
    if precision > 18:
        return None
    total = f"SUM(CAST(ROUND({argument} * {10 ** int(scale)}) AS INTEGER))"
    return f"(CAST({total} AS TEXT) || 'E-{int(scale)}')"


def _decimal_from_text(value: Any) -> Any:
    return from_sqlite(value, None)


def _quotient(value: Any) -> Any:
    # "sum/count" (see Avg._sqlite_native): PostgreSQL's numeric average.
    if value is None or not isinstance(value, str) or "/" not in value:
        return from_sqlite(value, None)
    total, count = value.split("/")
    return divide(decimal.Decimal(total), decimal.Decimal(count))


def _float_quotient(value: Any) -> Any:
    quotient = _quotient(value)
    return None if quotient is None else float(quotient)


class Count(Aggregate[int]):
    """``COUNT(*)``, ``COUNT(column)`` (its non-null values), or
    ``COUNT(DISTINCT column)`` with ``distinct=`` (one column)."""

    _function = "COUNT"

    def __init__(
        self, column: Column[Any] | None = None, *, distinct: Sequence[Column[Any]] | None = None
    ) -> None:
        if distinct is not None:
            if column is not None:
                raise ValueError("Count() takes a column or distinct=[column], not both")
            if len(distinct) != 1:
                raise ValueError("Count(distinct=...) takes exactly one column")
            column = distinct[0]
        super().__init__(column)
        self._distinct = distinct is not None

    def _expression(self, c: Compiler) -> str:
        if self._distinct and self._column is not None:
            return f"COUNT(DISTINCT {c.column(self._column)})"
        return super()._expression(c)

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        return _int if dialect.exact_numeric else None


class Sum(Aggregate[T]):
    """``SUM(column)``; ``0`` (not ``NULL``) when there is nothing to add."""

    _function = "SUM"

    @overload
    def __init__(self: Sum[int], column: Column[int] | Column[int | None]) -> None: ...
    @overload
    def __init__(self: Sum[float], column: Column[float] | Column[float | None]) -> None: ...
    @overload
    def __init__(
        self: Sum[decimal.Decimal],
        column: Column[decimal.Decimal] | Column[decimal.Decimal | None],
    ) -> None: ...
    def __init__(self, column: Column[Any]) -> None:
        self._kind = _numeric_kind(column, "Sum")
        super().__init__(column)
        if self._kind == "numeric":
            # SQLite would add the REAL values in binary floating point.
            self._decimal_text = True

    def _expression(self, c: Compiler) -> str:
        return f"COALESCE({super()._expression(c)}, 0)"

    def _sqlite_native(self, c: Compiler, column: Column[Any], argument: str) -> str | None:
        # NULL over no rows, so COALESCE gives PostgreSQL's 0.
        return _scaled_sum(column, argument)

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if self._kind == "integer":
            # PostgreSQL sums a BIGINT as NUMERIC.
            return _int if dialect.exact_numeric else None
        if self._kind == "real":
            return _float
        return None if dialect.exact_numeric else _decimal_from_text


class Avg(Aggregate[T]):
    """``AVG(column)``: a ``float`` for integer and float columns, a
    ``Decimal`` for numeric ones, on both engines."""

    _function = "AVG"

    @overload
    def __init__(self: Avg[float], column: Column[int] | Column[float]) -> None: ...
    @overload
    def __init__(
        self: Avg[float | None], column: Column[int | None] | Column[float | None]
    ) -> None: ...
    @overload
    def __init__(self: Avg[decimal.Decimal], column: Column[decimal.Decimal]) -> None: ...
    @overload
    def __init__(
        self: Avg[decimal.Decimal | None], column: Column[decimal.Decimal | None]
    ) -> None: ...
    def __init__(self, column: Column[Any]) -> None:
        self._kind = _numeric_kind(column, "Avg")
        super().__init__(column)
        if self._kind != "real":
            # PostgreSQL's numeric average; SQLite's AVG is a float quotient,
            # which differs from it in the last bits.
            self._decimal_text = True

    def _sqlite_native(self, c: Compiler, column: Column[Any], argument: str) -> str | None:
        # PostgreSQL's average is numeric_div(sum, count): SQLite sums
        # exactly (integers, or a numeric column's scaled integers) and
        # counts, and the decoder divides as PostgreSQL does ("sum/count").
        if self._kind == "integer":
            total = f"SUM({argument})"  # exact (SQLite raises on overflow)
        else:
            scaled = _scaled_sum(column, argument)
            if scaled is None:
                return None
            total = scaled
        # The column compiled again: its parameters, if any, are bound twice.
        return f"(CAST({total} AS TEXT) || '/' || COUNT({c.column(column)}))"

    def _order_expression(self, c: Compiler) -> str:
        if not c.dialect.exact_numeric and self._column is not None:
            # The "sum/count" text does not sort: SQLite's own average does.
            return f"AVG({order_term(c, self._column, c.column(self._column))})"
        return super()._order_expression(c)

    def _from_db(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        # One type per column kind on both engines: Decimal for numeric
        # columns, float for the others (PostgreSQL's numeric average of
        # integers converted).
        if self._kind == "numeric":
            return None if dialect.exact_numeric else _quotient
        if dialect.exact_numeric:
            return _float
        return _float_quotient if self._kind == "integer" else _float


class Min(Aggregate[T]):
    """``MIN(column)``, of the column's type."""

    _function = "MIN"
    _by_order = True

    def __init__(self, column: Column[T]) -> None:
        super().__init__(column)
        self._decimal_text = column._decimal_text  # SQLite would take the least text


class Max(Aggregate[T]):
    """``MAX(column)``, of the column's type."""

    _function = "MAX"
    _by_order = True

    def __init__(self, column: Column[T]) -> None:
        super().__init__(column)
        self._decimal_text = column._decimal_text
