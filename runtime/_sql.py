"""The parameterised SQL tree: conditions, expressions and their compilation.

A query is compiled once per dialect into ``(sql, params)``. Values never
enter the SQL text: every value becomes a bound parameter (``$n`` for
asyncpg, ``?`` for sqlite3), and identifiers come only from the validated
schema and are always quoted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, final

from ._dialect import Dialect
from ._numeric import FUNCTION

if TYPE_CHECKING:
    from ._columns import Column, ForeignKey
    from ._columns import Column as ColumnRole  # what a ColumnRole is (see _roles)
    from ._table import Table
else:
    from ._roles import ColumnRole

__all__ = ["Compiler", "Condition", "And", "Or", "Compare", "IsNull", "InList", "Shape"]

#: What a condition's SQL text depends on, without its values: operators and
#: the ``id()`` of each column (see ``Condition._shape``).
Shape: TypeAlias = tuple[object, ...]
#: The values a condition binds, in compile order, each with the function
#: that turns it into the driver's representation (``None``: as it is).
Bound: TypeAlias = list[tuple["Callable[[Any, Dialect], object] | None", object]]

#: Types whose values every column that keeps ``Column._to_db`` binds as they are.
_AS_IS: frozenset[type] = frozenset({int, str, float, bool})


def _bound(
    column: Column[Any], value: object
) -> tuple[Callable[[Any, Dialect], object] | None, object]:
    """``value`` for ``Bound``: with ``column._to_db`` unless that would return it as is."""
    if column._to_db_as_is and type(value) in _AS_IS:
        return None, value
    return column._to_db, value


#: Ready ``$n`` markers: compiling one parameter is then a tuple index, not
#: an f-string (more than this many parameters fall back to the f-string).
_NUMBERED: tuple[str, ...] = tuple(f"${i}" for i in range(1025))

#: Quoted identifiers of compiled queries (tables, columns, join aliases):
#: they come from the schema, so the set is small and each is quoted once.
#: Bounded anyway, as ``as_alias()`` names come from callers.
_QUOTED: dict[str, str] = {}
_QUOTED_MAX = 4096
#: ``"alias"."column"`` per (alias, column name), and the ``LEFT JOIN`` text
#: per (alias, parent alias, foreign key): both depend only on the schema.
_REFS: dict[tuple[str, str], str] = {}
_JOINS: dict[tuple[str, str, int], tuple[ForeignKey[Any, Any], str]] = {}


def quote(identifier: str) -> str:
    """``Dialect.quote``, remembered (identifiers are immutable strings)."""
    quoted = _QUOTED.get(identifier)
    if quoted is None:
        quoted = Dialect.quote(identifier)
        if len(_QUOTED) < _QUOTED_MAX:
            _QUOTED[identifier] = quoted
    return quoted


class Compiler:
    """Collects parameters and join paths while a query is turned into SQL.

    Parameters are numbered in the order they are added, so sections of a
    statement must be compiled in the order they appear in the text (the
    join list carries no parameters, so it may be emitted last).
    """

    __slots__ = ("dialect", "params", "root", "joins", "_numbered")

    def __init__(self, dialect: Dialect, root: type[Table[Any]]) -> None:
        self.dialect = dialect
        self.params: list[object] = []
        self.root = root
        #: alias -> (parent alias, foreign key) in the order first needed.
        self.joins: dict[str, tuple[str, ForeignKey[Any, Any]]] = {}
        self._numbered = dialect.numbered_params

    def param(self, value: object) -> str:
        """Bind ``value`` (already in the driver's representation)."""
        params = self.params
        params.append(value)
        if not self._numbered:
            return "?"
        n = len(params)
        return _NUMBERED[n] if n < 1025 else self.dialect.placeholder(n)

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
        meta = column._meta
        path = meta.path
        # A column of the queried table itself (the common case) has no joins.
        alias = self.alias(path) if path else self.root._meta.tablename
        key = (alias, meta.db_column_name or meta.name)
        ref = _REFS.get(key)
        if ref is None:
            ref = f"{quote(alias)}.{quote(key[1])}"
            if len(_REFS) < _QUOTED_MAX:
                _REFS[key] = ref
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
        parts: list[str] = []
        for alias, (parent, fk) in self.joins.items():
            # Keyed by id(): a column's ``==`` builds a condition, so columns
            # must not be compared as keys. The entry keeps ``fk`` alive (its
            # id is not reused) and is checked to be this very key.
            key = (alias, parent, id(fk))
            entry = _JOINS.get(key)
            if entry is not None and entry[0] is fk:
                text = entry[1]
            else:
                target = fk.target()
                pk = fk._target_key()._meta.db_name
                text = (
                    f" LEFT JOIN {quote(target._meta.tablename)} AS {quote(alias)}"
                    f" ON {quote(parent)}.{quote(fk._meta.db_name)}"
                    f" = {quote(alias)}.{quote(pk)}"
                )
                if len(_JOINS) < _QUOTED_MAX:
                    _JOINS[key] = (fk, text)
            parts.append(text)
        return "".join(parts)


def order_term(c: Compiler, column: Column[Any], sql: str) -> str:
    """``sql`` (``column`` compiled) as an ``ORDER BY`` term.

    On SQLite a numeric expression or aggregate is decimal text (see
    ``_numeric``), which would sort as text: sort by its number instead.
    """
    if column._decimal_text and not c.dialect.exact_numeric:
        return f"CAST({sql} AS REAL)"
    if column._enum_values and not c.dialect.native_enums:
        return enum_position(column, sql)
    return sql


def enum_position(column: Column[Any], sql: str) -> str:
    """``sql`` (a value of the enum column ``column``) as its position in the
    type, to sort and compare by where the database has no enum types. The
    values come from the schema, so they are written as literals."""
    whens = " ".join(
        f"WHEN '{value.replace(chr(39), chr(39) * 2)}' THEN {position}"
        for position, value in enumerate(column._enum_values)
    )
    return f"(CASE {sql} {whens} END)"


class Condition:
    """A boolean SQL expression usable in ``where()``; combine with ``&`` and ``|``."""

    __slots__ = ()

    def compile(self, c: Compiler) -> str:
        """Render this condition, binding its values on ``c``."""
        raise NotImplementedError

    def _shape(self, values: Bound, refs: list[object]) -> Shape | None:
        """This condition's shape, for the compiled-SQL cache of ``_query``.

        Two conditions with equal shapes compile to the same text. The values
        the condition binds go to ``values`` in the order ``compile`` binds
        them, and every object whose ``id()`` the shape holds goes to ``refs``
        (the cache keeps them alive, so an id is never reused while a cached
        statement refers to it). ``None``: no shape, compile every time; the
        default for conditions that do not define one.
        """
        return None

    def __and__(self, other: Condition) -> Condition:
        return And(self, other)

    def __or__(self, other: Condition) -> Condition:
        return Or(self, other)


class _Junction(Condition):
    """Two conditions joined by ``_op`` (``AND``, ``OR``)."""

    __slots__ = ("left", "right")
    _op: ClassVar[str]

    def __init__(self, left: Condition, right: Condition) -> None:
        self.left = left
        self.right = right

    def compile(self, c: Compiler) -> str:
        return f"({self.left.compile(c)} {self._op} {self.right.compile(c)})"

    def _shape(self, values: Bound, refs: list[object]) -> Shape | None:
        left = self.left._shape(values, refs)
        if left is None:
            return None
        right = self.right._shape(values, refs)
        return None if right is None else (self._op, left, right)


@final
class And(_Junction):
    """Both conditions hold."""

    __slots__ = ()
    _op = "AND"


@final
class Or(_Junction):
    """Either condition holds."""

    __slots__ = ()
    _op = "OR"


@final
class Compare(Condition):
    """``column <op> value`` or ``column <op> other_column``."""

    __slots__ = ("column", "op", "value")

    def __init__(self, column: Column[Any], op: str, value: object) -> None:
        self.column = column
        self.op = op
        # Check eagerly: a bad value raises here, before any database work.
        self.value = value if isinstance(value, ColumnRole) else column._check(value)

    def compile(self, c: Compiler) -> str:
        column = self.column
        left = c.column(column)
        value = self.value
        if isinstance(value, ColumnRole):
            right = c.column(value)
            exact = column._decimal_text or value._decimal_text
        else:
            right = c.param(column._to_db(value, c.dialect))
            exact = column._decimal_text
        if exact and not c.dialect.exact_numeric:
            # A numeric expression is decimal text on SQLite, without column
            # affinity: compared as such it would be text (and a REAL always
            # sorts below text). Compare the numbers, exactly.
            return f"{FUNCTION['cmp']}({left}, {right}) {self.op} 0"
        if column._enum_values and self.op not in ("=", "!=") and not c.dialect.native_enums:
            # An enum value as text would compare alphabetically: by position.
            return f"{enum_position(column, left)} {self.op} {enum_position(column, right)}"
        return f"{left} {self.op} {right}"

    def _shape(self, values: Bound, refs: list[object]) -> Shape | None:
        column, value = self.column, self.value
        if column._expr is not None:
            return None  # a derived column binds values of its own
        refs.append(column)
        if isinstance(value, ColumnRole):
            if value._expr is not None:
                return None
            refs.append(value)
            return (self.op, id(column), id(value))
        values.append(_bound(column, value))
        return (self.op, id(column))


@final
class IsNull(Condition):
    """``column IS [NOT] NULL``."""

    __slots__ = ("column", "negate")

    def __init__(self, column: Column[Any], *, negate: bool) -> None:
        self.column = column
        self.negate = negate

    def compile(self, c: Compiler) -> str:
        return f"{c.column(self.column)} IS {'NOT ' if self.negate else ''}NULL"

    def _shape(self, values: Bound, refs: list[object]) -> Shape | None:
        column = self.column
        if column._expr is not None:
            return None
        refs.append(column)
        return ("IS NOT NULL" if self.negate else "IS NULL", id(column))


#: Lists longer than this are bound as one parameter (see ``InList``).
LONG_LIST = 1000


@final
class InList(Condition):
    """``column [NOT] IN (values...)``; an empty list is always false (true negated).

    A list of up to ``LONG_LIST`` values binds one parameter per value. A
    longer one is bound as a single parameter, as both drivers limit the
    parameters of a statement (asyncpg 32,767; SQLite 32,766 by default,
    250,000 in some builds): a native array on PostgreSQL (``col = ANY($1)``,
    ``col <> ALL($1)``, the form PostgreSQL itself gives an ``IN`` list), and
    JSON text listed by ``json_each`` on SQLite. JSON cannot carry every
    SQLite value faithfully (bytes; ``json_each`` cuts text at a NUL;
    infinities), so a list holding such a value keeps one parameter per value.
    """

    __slots__ = ("column", "values", "negate")

    def __init__(self, column: Column[Any], values: list[object], *, negate: bool) -> None:
        self.column = column
        self.values = [column._check(v) for v in values]
        self.negate = negate

    def compile(self, c: Compiler) -> str:
        if not self.values:
            # ``IN ()`` is a syntax error in PostgreSQL; say what it means instead.
            return "1 = 1" if self.negate else "1 = 0"
        dialect = c.dialect
        column = self.column
        to_db = column._to_db
        # The column first: a derived column binds values of its own, and
        # parameters are numbered in text order.
        left = c.column(column)
        if column._decimal_text and not dialect.exact_numeric:
            # Decimal text (see Compare): a CAST gives it numeric affinity,
            # which SQLite then applies to the listed values too.
            left = f"CAST({left} AS NUMERIC)"
        items = [to_db(v, dialect) for v in self.values]
        if len(items) > LONG_LIST and dialect.native_arrays:
            # (An array column's values are lists: ANY would iterate their
            # elements, so they keep one parameter each.)
            if type(items[0]) is not list:
                op = "<> ALL" if self.negate else "= ANY"
                return f"{left} {op}({c.param(items)})"
        elif len(items) > LONG_LIST:
            text = _json_list(items)
            if text is not None:
                listed = f'SELECT "value" FROM json_each({c.param(text)})'
                return f"{left} {'NOT IN' if self.negate else 'IN'} ({listed})"
        marks = ", ".join([c.param(item) for item in items])
        return f"{left} {'NOT IN' if self.negate else 'IN'} ({marks})"

    def _shape(self, values: Bound, refs: list[object]) -> Shape | None:
        column = self.column
        if column._expr is not None or len(self.values) > LONG_LIST:
            return None  # long lists bind per dialect; compiled each time
        refs.append(column)
        values.extend([_bound(column, value) for value in self.values])
        return ("NOT IN" if self.negate else "IN", id(column), len(self.values))


def json_list(items: list[Any]) -> str:
    """A list as the JSON text SQLite's ``json_each`` reads it from (an array
    column's value, a long ``IN`` list): minified, Unicode as it is; a
    ``ValueError`` for an infinite float, which is not JSON."""
    return json.dumps(items, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _json_list(items: list[object]) -> str | None:
    """``items`` as JSON text whose ``json_each`` values are the items, or
    ``None`` when JSON cannot carry one of them faithfully."""
    for item in items:
        if type(item) is bytes or (type(item) is str and "\x00" in item):
            return None
    try:
        return json_list(items)
    except (TypeError, ValueError):  # a type JSON has not, an infinity
        return None


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
