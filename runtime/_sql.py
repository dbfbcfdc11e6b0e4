"""The parameterised SQL tree: conditions, expressions and their compilation.

A query is compiled once per dialect into ``(sql, params)``. Values never
enter the SQL text: every value becomes a bound parameter (``$n`` for
asyncpg, ``?`` for sqlite3), and identifiers come only from the validated
schema and are always quoted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._dialect import Dialect

if TYPE_CHECKING:
    from ._columns import Column, ForeignKey
    from ._table import Table

__all__ = ["Compiler", "Condition", "And", "Or", "Compare", "IsNull", "InList"]


class Compiler:
    """Collects parameters and join paths while a query is turned into SQL.

    Parameters are numbered in the order they are added, so sections of a
    statement must be compiled in the order they appear in the text (the
    join list carries no parameters, so it may be emitted last).
    """

    __slots__ = ("dialect", "params", "root", "joins")

    def __init__(self, dialect: Dialect, root: type[Table[Any]]) -> None:
        self.dialect = dialect
        self.params: list[object] = []
        self.root = root
        #: alias -> (parent alias, foreign key) in the order first needed.
        self.joins: dict[str, tuple[str, ForeignKey[Any, Any]]] = {}

    def param(self, value: object) -> str:
        """Bind ``value`` (already in the driver's representation)."""
        self.params.append(value)
        return self.dialect.placeholder(len(self.params))

    def alias(self, path: tuple[ForeignKey[Any, Any], ...]) -> str:
        """The table alias at the end of a join path, registering its joins."""
        alias = self.root._meta.tablename
        for fk in path:
            parent = alias
            alias = f"{alias}${fk._meta.name}"
            if alias not in self.joins:
                self.joins[alias] = (parent, fk)
        return alias

    def column(self, column: Column[Any]) -> str:
        """A fully qualified, quoted reference to ``column``."""
        quote = self.dialect.quote
        ref = f"{quote(self.alias(column._meta.path))}.{quote(column._meta.db_name)}"
        # A derived column (a JSON path, an array concatenation) wraps the
        # plain reference in an expression, binding its values here, in order.
        expr = column._expr
        return ref if expr is None else expr(self, ref)

    def join_clause(self) -> str:
        """The ``LEFT JOIN`` list for every path used so far.

        Every join is a LEFT JOIN: a null foreign key must not drop the row,
        which is also why join-path columns are typed nullable when any key on
        the path is.
        """
        quote = self.dialect.quote
        parts: list[str] = []
        for alias, (parent, fk) in self.joins.items():
            target = fk.target()
            pk = target._meta.primary_key._meta.db_name
            parts.append(
                f" LEFT JOIN {quote(target._meta.tablename)} AS {quote(alias)}"
                f" ON {quote(parent)}.{quote(fk._meta.db_name)}"
                f" = {quote(alias)}.{quote(pk)}"
            )
        return "".join(parts)


class Condition:
    """A boolean SQL expression usable in ``where()``; combine with ``&`` and ``|``."""

    __slots__ = ()

    def compile(self, c: Compiler) -> str:
        """Render this condition, binding its values on ``c``."""
        raise NotImplementedError

    def __and__(self, other: Condition) -> Condition:
        return And(self, other)

    def __or__(self, other: Condition) -> Condition:
        return Or(self, other)


class And(Condition):
    """Both conditions hold."""

    __slots__ = ("left", "right")

    def __init__(self, left: Condition, right: Condition) -> None:
        self.left = left
        self.right = right

    def compile(self, c: Compiler) -> str:
        return f"({self.left.compile(c)} AND {self.right.compile(c)})"


class Or(Condition):
    """Either condition holds."""

    __slots__ = ("left", "right")

    def __init__(self, left: Condition, right: Condition) -> None:
        self.left = left
        self.right = right

    def compile(self, c: Compiler) -> str:
        return f"({self.left.compile(c)} OR {self.right.compile(c)})"


class Compare(Condition):
    """``column <op> value`` or ``column <op> other_column``."""

    __slots__ = ("column", "op", "value")

    def __init__(self, column: Column[Any], op: str, value: object) -> None:
        from ._columns import Column

        self.column = column
        self.op = op
        # Check eagerly: a bad value raises here, before any database work.
        self.value = value if isinstance(value, Column) else column._check(value)

    def compile(self, c: Compiler) -> str:
        from ._columns import Column

        left = c.column(self.column)
        value = self.value
        if isinstance(value, Column):
            return f"{left} {self.op} {c.column(value)}"
        return f"{left} {self.op} {c.param(self.column._to_db(value, c.dialect))}"


class IsNull(Condition):
    """``column IS [NOT] NULL``."""

    __slots__ = ("column", "negate")

    def __init__(self, column: Column[Any], *, negate: bool) -> None:
        self.column = column
        self.negate = negate

    def compile(self, c: Compiler) -> str:
        return f"{c.column(self.column)} IS {'NOT ' if self.negate else ''}NULL"


class InList(Condition):
    """``column [NOT] IN (values...)``; an empty list is always false (true negated)."""

    __slots__ = ("column", "values", "negate")

    def __init__(self, column: Column[Any], values: list[object], *, negate: bool) -> None:
        self.column = column
        self.values = [column._check(v) for v in values]
        self.negate = negate

    def compile(self, c: Compiler) -> str:
        if not self.values:
            # ``IN ()`` is a syntax error in PostgreSQL; say what it means instead.
            return "1 = 1" if self.negate else "1 = 0"
        to_db = self.column._to_db
        marks = ", ".join(c.param(to_db(v, c.dialect)) for v in self.values)
        return f"{c.column(self.column)} {'NOT IN' if self.negate else 'IN'} ({marks})"


def interpolate(sql: str, params: list[object], dialect: Dialect) -> str:
    """SQL with parameters shown inline, for ``str(query)`` only (never executed)."""
    parts = sql.split("?") if not dialect.numbered_params else None

    def literal(value: object) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    if parts is not None:
        out = [parts[0]]
        for i, part in enumerate(parts[1:]):
            out.append(literal(params[i]) if i < len(params) else "?")
            out.append(part)
        return "".join(out)
    # Replace from the highest number down so that $1 does not eat $10.
    for i in range(len(params), 0, -1):
        sql = sql.replace(f"${i}", literal(params[i - 1]))
    return sql
