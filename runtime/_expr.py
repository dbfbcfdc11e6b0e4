"""Column arithmetic: ``Band.popularity + 1``, ``Band.name + "!"``.

An arithmetic expression is a *derived column* (see ``Column._derive``): a
copy of the left-hand column whose SQL wraps the column's reference. So it
has the column's class and value type (``Band.popularity + 1`` is an
``Integer[int]``), and it works wherever a column does: as an ``update()``
value, in ``where()``, in ``select()``. Values are checked by the left-hand
column when the expression is built and bound as parameters when it is
compiled.

Division follows SQL, not Python: on integer columns ``/`` divides
integers (``7 / 2`` is ``3`` on both databases), which is why the result
keeps the column's type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

if TYPE_CHECKING:
    from ._columns import Column
    from ._sql import Compiler

__all__ = ["TextOps", "NumberOps"]

T = TypeVar("T")


def arithmetic(column: Any, op: str, other: object, *, reflected: bool) -> Any:
    """``column <op> other`` (``other <op> column`` when ``reflected``): a derived
    column of ``column``'s class."""
    from ._columns import Column

    if not isinstance(column, Column):
        raise TypeError(f"{op} needs a column on one side; got {column!r}")

    if isinstance(other, Column):
        operand: Column[Any] | None = other
        value: object = None
    else:
        # Checked now: a bad value raises here, before any database work.
        operand = None
        value = column._check(other)
    inner = column._expr

    def left(c: Compiler, ref: str) -> str:
        return inner(c, ref) if inner is not None else ref

    def right(c: Compiler) -> str:
        if operand is not None:
            return c.column(operand)
        return c.param(column._to_db(value, c.dialect))

    def expr(c: Compiler, ref: str) -> str:
        # Parameters are numbered in text order: compile the operands in it.
        if reflected:
            first = right(c)
            return f"({first} {op} {left(c, ref)})"
        first = left(c, ref)
        return f"({first} {op} {right(c)})"

    return column._derive(type(column), expr)


class TextOps(Generic[T]):
    """``+`` on text columns: SQL concatenation (``||``)."""

    def __add__(self, other: T | Column[T]) -> Self:
        """``column || other``."""
        result: Self = arithmetic(self, "||", other, reflected=False)
        return result

    def __radd__(self, other: T) -> Self:
        """``other || column``."""
        result: Self = arithmetic(self, "||", other, reflected=True)
        return result


class NumberOps(Generic[T]):
    """``+ - * /`` on number columns; the result keeps the column's type."""

    def __add__(self, other: T | int | Column[T]) -> Self:
        """``column + other``."""
        result: Self = arithmetic(self, "+", other, reflected=False)
        return result

    def __radd__(self, other: T | int) -> Self:
        """``other + column``."""
        result: Self = arithmetic(self, "+", other, reflected=True)
        return result

    def __sub__(self, other: T | int | Column[T]) -> Self:
        """``column - other``."""
        result: Self = arithmetic(self, "-", other, reflected=False)
        return result

    def __rsub__(self, other: T | int) -> Self:
        """``other - column``."""
        result: Self = arithmetic(self, "-", other, reflected=True)
        return result

    def __mul__(self, other: T | int | Column[T]) -> Self:
        """``column * other``."""
        result: Self = arithmetic(self, "*", other, reflected=False)
        return result

    def __rmul__(self, other: T | int) -> Self:
        """``other * column``."""
        result: Self = arithmetic(self, "*", other, reflected=True)
        return result

    def __truediv__(self, other: T | int | Column[T]) -> Self:
        """``column / other`` (integer division on integer columns, as in SQL)."""
        result: Self = arithmetic(self, "/", other, reflected=False)
        return result

    def __rtruediv__(self, other: T | int) -> Self:
        """``other / column``."""
        result: Self = arithmetic(self, "/", other, reflected=True)
        return result
