"""Column arithmetic: ``Band.popularity + 1``, ``Line.quantity * Line.unit_price``, ``Band.name + "!"``.

An arithmetic expression is a *derived column* (see ``Column._derive``): a
column whose SQL wraps its operands' references, so it works wherever a
column does: as an ``update()`` value, in ``where()``, in ``select()`` and in
aggregates (``Sum(Line.quantity * Line.unit_price)``).

Its type follows SQL's promotion, in either order, for columns and literals
alike (a literal's kind is its Python type: ``int``, ``Decimal``, ``float``):

=========== =========== =========== ===========
 operands    integer     numeric     real
=========== =========== =========== ===========
 integer     integer     numeric     real
 numeric     numeric     numeric     real
 real        real        real        real
=========== =========== =========== ===========

An integer result is a column of the left integer column's class (``int``
values); a numeric one a ``Numeric`` without digits (``Decimal`` values, the
exact result, as PostgreSQL computes it); a real one a ``Real`` or
``DoublePrecision`` (``float``). The result is nullable when an operand
column is. Division follows SQL, not Python: integers divide as integers
(``7 / 2`` is ``3`` on both databases); a numeric quotient has PostgreSQL's
scale (at least 16 significant digits).

On SQLite, numeric results are computed by the functions of ``_numeric``
(exact decimals, PostgreSQL's scales), so both engines give the same values.
"""

from __future__ import annotations

import decimal
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, Self, TypeVar, overload

from ._numeric import FUNCTION, check_finite

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._columns import Column, Integer, Numeric, Real
    from ._columns import Column as ColumnRole  # what each role is (see _roles)
    from ._columns import ForeignKey as ForeignKeyRole
    from ._dialect import Dialect
    from ._sql import Compiler
else:
    from ._roles import ColumnRole, ForeignKeyRole

__all__ = ["TextOps", "IntegerOps", "NumericOps", "RealOps", "Kind", "kind_of"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: The number kinds of SQL's promotion, in promotion order.
Kind = Literal["integer", "numeric", "real"]
_RANK: dict[Kind, int] = {"integer": 0, "numeric": 1, "real": 2}


def kind_of(column: object) -> Kind | None:
    """The number kind of ``column``'s values (a foreign key: its target key's);
    ``None`` when it is not a number column."""
    # The operator classes below are the bases of exactly the number columns
    # (``_IntegerColumn``, ``Numeric``, ``Real``), so they tell the kind.
    if isinstance(column, ForeignKeyRole):
        column = column._target_key()
    if isinstance(column, IntegerOps):
        return "integer"
    if isinstance(column, NumericOps):
        return "numeric"
    if isinstance(column, RealOps):
        return "real"
    return None


def _literal_kind(column: Column[Any], op: str, value: object) -> Kind:
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        raise TypeError(
            f"{column._label()} {op} {value!r}: a number column takes an int, a Decimal, "
            f"a float or a number column; got {type(value).__name__}"
        )
    if isinstance(value, decimal.Decimal):
        check_finite(value, f"{column._label()} {op}")
        return "numeric"
    return "integer" if isinstance(value, int) else "real"


def _literal_value(value: Any, result: Kind) -> object:
    """A literal as its value in the result's kind (so both engines compute alike)."""
    if result == "numeric":
        number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(value)
        # PostgreSQL's numeric has no negative exponent of scale: 1E+1 is 10.
        exponent = number.as_tuple().exponent
        return (
            number.quantize(decimal.Decimal(1))
            if isinstance(exponent, int) and exponent > 0
            else number
        )
    if result == "real" and isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _static_scale(column: Column[Any] | None) -> str:
    """The scale SQLite's numeric functions restore a stored column value to (SQL text)."""
    if column is None or column._expr is not None or not isinstance(column, NumericOps):
        return "NULL"
    return "NULL" if column.digits is None else str(int(column.digits[1]))


def arithmetic(column: Any, op: str, other: object, *, reflected: bool) -> Any:
    """``column <op> other`` (``other <op> column`` when ``reflected``), of the
    promoted kind (see the module's table)."""
    # Here, not at the top: these derive from the operator classes below, so
    # ``_columns`` imports this module. Building an expression runs this, not
    # compiling or loading rows.
    from ._columns import DoublePrecision, Numeric

    left_kind = kind_of(column)
    if left_kind is None:
        raise TypeError(f"{op} needs a number column on one side; got {column!r}")
    operand: Column[Any] | None = None
    value: object = None
    to_db: Callable[[Any, Dialect], object] | None = None
    if isinstance(other, ColumnRole):
        other_kind = kind_of(other)
        if other_kind is None or not other._plain:
            raise TypeError(
                f"{column._label()} {op} {other._label()}: {type(other).__name__} "
                "is not a number column"
            )
        operand = other
    else:
        # Checked now: a bad value raises here, before any database work.
        other_kind = _literal_kind(column, op, other)
        if left_kind != "numeric" and other_kind in (left_kind, "integer"):
            # Bound as the column's own type (PostgreSQL infers the parameter's
            # type from the column): checked by the column, so a value outside
            # its range is refused now rather than by the driver, or stored by
            # SQLite silently. (Not numeric: a literal keeps its own scale.)
            other = column._check(other)
            to_db = column._to_db
    result: Kind = max(left_kind, other_kind, key=_RANK.__getitem__)
    if operand is None:
        value = _literal_value(other, result)
    inner = column._expr
    scale_left, scale_right = _static_scale(column), _static_scale(operand)
    cast = _literal_cast(left_kind, other_kind, result) if operand is None else None

    # SQLite: a numeric expression in a real result is decimal text; turned
    # into a float as PostgreSQL turns a numeric into a double.
    left_float = result == "real" and column._decimal_text
    right_float = result == "real" and operand is not None and operand._decimal_text

    def left_sql(c: Compiler, ref: str) -> str:
        sql = inner(c, ref) if inner is not None else ref
        if left_float and not c.dialect.exact_numeric:
            return f"{FUNCTION['float']}({sql})"
        return sql

    def right_sql(c: Compiler) -> str:
        if operand is not None:
            sql = c.column(operand)
            if right_float and not c.dialect.exact_numeric:
                return f"{FUNCTION['float']}({sql})"
            return sql
        bound = value if to_db is None else to_db(value, c.dialect)
        if not c.dialect.exact_numeric:
            # Decimals as text: exact into the numeric functions (or read as
            # a number by SQLite's arithmetic).
            return c.param(str(bound) if isinstance(bound, decimal.Decimal) else bound)
        marker = c.param(bound)
        # PostgreSQL types a parameter as the other operand (``integer * $1``
        # would make a Decimal an integer): say its own type.
        return f"CAST({marker} AS {cast})" if cast is not None else marker

    def expr(c: Compiler, ref: str) -> str:
        # Parameters are numbered in text order: compile the operands in it.
        if reflected:
            second = right_sql(c)
            first = left_sql(c, ref)
            first, second, scales = second, first, (scale_right, scale_left)
        else:
            first = left_sql(c, ref)
            second = right_sql(c)
            scales = (scale_left, scale_right)
        if not c.dialect.exact_numeric and result == "numeric":
            return f"{FUNCTION['op']}('{op}', {first}, {second}, {scales[0]}, {scales[1]})"
        return f"({first} {op} {second})"

    cls: type[Column[Any]]
    if result == "numeric":
        cls = Numeric
    elif result == "real":
        cls = type(column) if left_kind == "real" else DoublePrecision
        assert issubclass(cls, RealOps)
    else:
        cls = type(column)
    derived = column._derive(cls, expr)
    meta = derived._meta
    meta.choices = None  # a computed value is not an enum member
    meta.null = column._meta.null or (operand is not None and operand._meta.null)
    # Set either way: _derive copied the left operand's attributes.
    derived._decimal_text = result == "numeric"
    if result == "numeric":
        derived.digits = None  # the exact result: no rounding to a column's scale
    return derived


def _literal_cast(left: Kind, literal: Kind, result: Kind) -> str | None:
    """The SQL type a literal's parameter needs on PostgreSQL, if any."""
    if result == "numeric" and left == "integer":
        return "NUMERIC"
    if result == "real" and literal != "integer":
        # Also next to a REAL column: a float4 parameter would round the literal.
        return "DOUBLE PRECISION"
    return None


class TextOps(Generic[T]):
    """``+`` on text columns: SQL concatenation (``||``)."""

    def __add__(self, other: T | Column[T]) -> Self:
        """``column || other``."""
        result: Self = concatenate(self, other, reflected=False)
        return result

    def __radd__(self, other: T) -> Self:
        """``other || column``."""
        result: Self = concatenate(self, other, reflected=True)
        return result


def concatenate(column: Any, other: object, *, reflected: bool) -> Any:
    """``column || other`` (``other || column`` when ``reflected``): a derived
    column of ``column``'s class."""
    if isinstance(other, ColumnRole):
        operand: Column[Any] | None = other
        value: object = None
    else:
        operand = None
        value = column._check(other)
    inner = column._expr

    def expr(c: Compiler, ref: str) -> str:
        def right() -> str:
            if operand is not None:
                return c.column(operand)
            return c.param(column._to_db(value, c.dialect))

        if reflected:
            first = right()
            return f"({first} || {inner(c, ref) if inner is not None else ref})"
        first = inner(c, ref) if inner is not None else ref
        return f"({first} || {right()})"

    return column._derive(type(column), expr)


# -- number operators ------------------------------------------------------------
#
# Each operator's signature is a callable protocol generic in the column's
# value type, so one set of overloads serves + - * / alike. An overload's
# ``self`` says the column's nullability: with the protocols' covariant
# parameter a non-null column also matches the nullable overloads, which give
# a nullable result when the other operand is nullable.


class _IntegerArith(Protocol[T_co]):
    @overload
    def __call__(self: _IntegerArith[int], other: int | IntegerOps[int], /) -> Integer[int]: ...
    @overload
    def __call__(
        self: _IntegerArith[int | None], other: int | IntegerOps[int] | IntegerOps[int | None], /
    ) -> Integer[int | None]: ...
    @overload
    def __call__(
        self: _IntegerArith[int], other: decimal.Decimal | NumericOps[decimal.Decimal], /
    ) -> Numeric[decimal.Decimal]: ...
    @overload
    def __call__(
        self: _IntegerArith[int | None],
        other: decimal.Decimal | NumericOps[decimal.Decimal] | NumericOps[decimal.Decimal | None],
        /,
    ) -> Numeric[decimal.Decimal | None]: ...
    @overload
    def __call__(self: _IntegerArith[int], other: float | RealOps[float], /) -> Real[float]: ...
    @overload
    def __call__(
        self: _IntegerArith[int | None],
        other: float | RealOps[float] | RealOps[float | None],
        /,
    ) -> Real[float | None]: ...


class _IntegerRArith(Protocol[T_co]):
    @overload
    def __call__(self: _IntegerRArith[int], other: int, /) -> Integer[int]: ...
    @overload
    def __call__(self: _IntegerRArith[int | None], other: int, /) -> Integer[int | None]: ...
    @overload
    def __call__(
        self: _IntegerRArith[int], other: decimal.Decimal, /
    ) -> Numeric[decimal.Decimal]: ...
    @overload
    def __call__(
        self: _IntegerRArith[int | None], other: decimal.Decimal, /
    ) -> Numeric[decimal.Decimal | None]: ...
    @overload
    def __call__(self: _IntegerRArith[int], other: float, /) -> Real[float]: ...
    @overload
    def __call__(self: _IntegerRArith[int | None], other: float, /) -> Real[float | None]: ...


class _NumericArith(Protocol[T_co]):
    @overload
    def __call__(
        self: _NumericArith[decimal.Decimal],
        other: int | decimal.Decimal | IntegerOps[int] | NumericOps[decimal.Decimal],
        /,
    ) -> Numeric[decimal.Decimal]: ...
    @overload
    def __call__(
        self: _NumericArith[decimal.Decimal | None],
        other: (
            int
            | decimal.Decimal
            | IntegerOps[int]
            | IntegerOps[int | None]
            | NumericOps[decimal.Decimal]
            | NumericOps[decimal.Decimal | None]
        ),
        /,
    ) -> Numeric[decimal.Decimal | None]: ...
    @overload
    def __call__(
        self: _NumericArith[decimal.Decimal], other: float | RealOps[float], /
    ) -> Real[float]: ...
    @overload
    def __call__(
        self: _NumericArith[decimal.Decimal | None],
        other: float | RealOps[float] | RealOps[float | None],
        /,
    ) -> Real[float | None]: ...


class _NumericRArith(Protocol[T_co]):
    @overload
    def __call__(
        self: _NumericRArith[decimal.Decimal], other: int | decimal.Decimal, /
    ) -> Numeric[decimal.Decimal]: ...
    @overload
    def __call__(
        self: _NumericRArith[decimal.Decimal | None], other: int | decimal.Decimal, /
    ) -> Numeric[decimal.Decimal | None]: ...
    @overload
    def __call__(self: _NumericRArith[decimal.Decimal], other: float, /) -> Real[float]: ...
    @overload
    def __call__(
        self: _NumericRArith[decimal.Decimal | None], other: float, /
    ) -> Real[float | None]: ...


class _RealArith(Protocol[T_co]):
    @overload
    def __call__(
        self: _RealArith[float],
        other: (
            float | decimal.Decimal | IntegerOps[int] | NumericOps[decimal.Decimal] | RealOps[float]
        ),
        /,
    ) -> Real[float]: ...
    @overload
    def __call__(
        self: _RealArith[float | None],
        other: (
            float
            | decimal.Decimal
            | IntegerOps[int]
            | IntegerOps[int | None]
            | NumericOps[decimal.Decimal]
            | NumericOps[decimal.Decimal | None]
            | RealOps[float]
            | RealOps[float | None]
        ),
        /,
    ) -> Real[float | None]: ...


class _RealRArith(Protocol[T_co]):
    @overload
    def __call__(self: _RealRArith[float], other: float | decimal.Decimal, /) -> Real[float]: ...
    @overload
    def __call__(
        self: _RealRArith[float | None], other: float | decimal.Decimal, /
    ) -> Real[float | None]: ...


def _forward(op: str) -> Any:
    def method(self: Any, other: object) -> Any:
        return arithmetic(self, op, other, reflected=False)

    method.__doc__ = f"``column {op} other``, of SQL's promoted type."
    return method


def _reflected(op: str) -> Any:
    def method(self: Any, other: object) -> Any:
        return arithmetic(self, op, other, reflected=True)

    method.__doc__ = f"``other {op} column``, of SQL's promoted type."
    return method


class _Arithmetic:
    """The operators of the number classes below, which give their types."""

    if not TYPE_CHECKING:
        __add__, __sub__ = _forward("+"), _forward("-")
        __mul__, __truediv__ = _forward("*"), _forward("/")
        __radd__, __rsub__ = _reflected("+"), _reflected("-")
        __rmul__, __rtruediv__ = _reflected("*"), _reflected("/")


class IntegerOps(_Arithmetic, Generic[T]):
    """``+ - * /`` on integer columns: integer with integer, numeric with a
    numeric column or a ``Decimal``, real with a real column or a ``float``."""

    if TYPE_CHECKING:
        __add__: _IntegerArith[T]
        __sub__: _IntegerArith[T]
        __mul__: _IntegerArith[T]
        __truediv__: _IntegerArith[T]
        __radd__: _IntegerRArith[T]
        __rsub__: _IntegerRArith[T]
        __rmul__: _IntegerRArith[T]
        __rtruediv__: _IntegerRArith[T]


class NumericOps(_Arithmetic, Generic[T]):
    """``+ - * /`` on numeric columns: numeric with integer and numeric columns,
    ``int`` and ``Decimal``; real with a real column or a ``float``."""

    if TYPE_CHECKING:
        digits: tuple[int, int] | None  # see Numeric
        __add__: _NumericArith[T]
        __sub__: _NumericArith[T]
        __mul__: _NumericArith[T]
        __truediv__: _NumericArith[T]
        __radd__: _NumericRArith[T]
        __rsub__: _NumericRArith[T]
        __rmul__: _NumericRArith[T]
        __rtruediv__: _NumericRArith[T]


class RealOps(_Arithmetic, Generic[T]):
    """``+ - * /`` on real columns: real with any number column or literal."""

    if TYPE_CHECKING:
        __add__: _RealArith[T]
        __sub__: _RealArith[T]
        __mul__: _RealArith[T]
        __truediv__: _RealArith[T]
        __radd__: _RealRArith[T]
        __rsub__: _RealRArith[T]
        __rmul__: _RealRArith[T]
        __rtruediv__: _RealRArith[T]
