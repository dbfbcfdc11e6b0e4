"""Query builders: immutable, awaitable, and printable.

Every clause returns a new query, so a partial query can be kept and reused.
Every query runs with ``await q``, ``await q.run()`` or ``q.run_sync()``, all
with the same result type, and ``str(q)`` shows its SQL. This module holds
the base classes and the shared clauses; the queries live in ``_select``,
``_objects``, ``_write`` and ``_ddl``.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Generic, Self, TypeVar, cast, overload

from . import _sync
from ._columns import Column
from ._dialect import POSTGRES, Dialect
from ._discovery import engine_finder
from ._errors import CheckViolation
from ._sql import Bound, Compiler, Condition, Shape, interpolate, order_term, quote

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

ResultT = TypeVar("ResultT")
R = TypeVar("R")
C = TypeVar("C")
T1 = TypeVar("T1")
TableT = TypeVar("TableT", bound="Table[Any]")

__all__ = ["Query", "First", "RowLoad", "Callback"]


class Query(Generic[ResultT]):
    """Base of every query: how it runs, and how it prints."""

    _table: type[Table[Any]]

    def _engine(self) -> Engine:
        db = self._table._meta.db
        if db is not None:
            return db
        return engine_finder()

    def _copy(self) -> Self:
        new = object.__new__(type(self))
        new.__dict__ = self.__dict__.copy()
        return new

    async def run(self, *, engine: Engine | None = None, node: str | None = None) -> ResultT:
        """Run the query on ``engine`` (default: the table's engine).

        ``node`` names one of the engine's extra nodes (a read replica of a
        ``PostgresEngine(extra_nodes=...)``) for a read to run on; writes and
        queries inside a transaction run on the primary (see
        ``PostgresEngine``'s ``read_policy``).
        """
        target = engine or self._engine()
        try:
            if node is not None or target._routes:
                return await target._routed(self, node)
            return await self._run(target)
        except CheckViolation as exc:
            # SQLite names the check but not its table: a check of the table
            # written is that table's (a check of the same name elsewhere,
            # met through a cascade, is not told apart).
            table = getattr(self, "_table", None)
            if exc.table is None and table is not None:
                if any(c.name == exc.constraint for c in table._meta.checks):
                    exc.table = table._meta.tablename
            raise

    async def _run(self, engine: Engine) -> ResultT:
        raise NotImplementedError

    def _read_only(self) -> bool | None:
        """Whether the query only reads, so that it may run on a read replica:
        ``False`` for writes and locking reads (they run on the primary),
        ``None`` when the SQL is not the query layer's (``raw()``: it runs on
        the primary unless ``node=`` names a node)."""
        return False

    def __await__(self) -> Generator[Any, None, ResultT]:
        return self.run().__await__()

    def run_sync(self, *, engine: Engine | None = None, node: str | None = None) -> ResultT:
        """Run the query to completion from synchronous code (``node``: see ``run()``)."""
        return _sync.run_sync(self.run(engine=engine, node=node))

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        """The statement (the first, if it runs several) and its parameters."""
        raise NotImplementedError

    @overload
    def callback(self, function: Callable[[ResultT], Awaitable[T1]], /) -> Callback[T1]: ...
    @overload
    def callback(self, function: Callable[[ResultT], T1], /) -> Callback[T1]: ...
    def callback(self, function: Callable[[ResultT], Any], /) -> Callback[Any]:
        """Run ``function`` on the result (awaited if it is a coroutine function);
        what it returns becomes the result. Chainable; it comes last in a query."""
        return Callback(self, function)

    def __str__(self) -> str:
        db = self._table._meta.db
        dialect = db.dialect if db is not None else POSTGRES
        sql, params = self._sql(dialect)
        return interpolate(sql, params, dialect)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"


# -- loading rows ------------------------------------------------------------------


class RowLoad:
    """Turns driver rows into dicts or instances; built once per column list.

    The common case (no column needs decoding) is ``dict(zip(keys, row))``,
    which runs in C.
    """

    __slots__ = ("keys", "decoders", "_straight", "_at")

    def __init__(
        self,
        columns: Sequence[Column[Any]],
        dialect: Dialect,
        keys: Sequence[str],
        overrides: Mapping[int, Callable[[Any], Any]] | None = None,
    ):
        self.keys = tuple(keys)
        decoders = {i: d for i, c in enumerate(columns) if (d := c._from_db(dialect)) is not None}
        # ``overrides``: decoders that replace the columns' own by position
        # (``output(load_json=True)`` parses JSON columns).
        decoders.update(overrides or {})
        self.decoders = sorted(decoders.items())
        #: The straight-line object loader, made on first use of ``objects()``.
        self._straight: _Loader | None | _Unset = _UNSET
        #: Straight-line loaders reading from a column offset (prefetched
        #: rows in a wider row), by offset.
        self._at: dict[int, _Loader | None] = {}

    def dicts(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        if not rows:
            return []  # no comprehension frame for an empty result
        keys = self.keys
        result = [dict(zip(keys, row)) for row in rows]
        if self.decoders:
            fix = [(keys[i], d) for i, d in self.decoders]
            for item in result:
                for key, decode in fix:
                    item[key] = decode(item[key])
        return result

    def tuples(self, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        if not self.decoders:
            return [tuple(row) for row in rows]
        decoders = dict(self.decoders)
        return [
            tuple(decoders[i](v) if i in decoders else v for i, v in enumerate(row)) for row in rows
        ]

    def objects(self, table: type[TableT], rows: Sequence[Sequence[Any]]) -> list[TableT]:
        load = self._straight
        if load is _UNSET:
            load = self._straight = _straight_loader(self.keys, self.decoders)
        if load is not None:
            loaded: list[TableT] = load(rows, table)
            return loaded
        new = object.__new__
        put = object.__setattr__  # past Table.__setattr__: loaded values need no check
        result: list[TableT] = []
        append = result.append
        for item in self.dicts(rows):
            obj = new(table)
            item["_saved"] = True
            put(obj, "__dict__", item)
            append(obj)
        return result

    def objects_at(
        self, table: type[TableT], rows: Sequence[Sequence[Any]], offset: int
    ) -> list[TableT]:
        """``objects()`` of the columns from position ``offset`` of wider rows
        (a prefetched foreign key's target), without copying the rows."""
        try:
            load = self._at[offset]
        except KeyError:
            load = self._at[offset] = _straight_loader(self.keys, self.decoders, offset)
        if load is not None:
            loaded: list[TableT] = load(rows, table)
            return loaded
        end = offset + len(self.keys)
        return self.objects(table, [tuple(row)[offset:end] for row in rows])


_Loader = Callable[[Sequence[Sequence[Any]], type[Any]], list[Any]]


class _Unset(enum.Enum):
    UNSET = enum.auto()


_UNSET: Final = _Unset.UNSET


def _straight_loader(
    keys: tuple[str, ...], decoders: list[tuple[int, Any]], offset: int = 0
) -> _Loader | None:
    """``RowLoad.objects`` as one straight-line function for these keys:
    ``obj.__dict__ = {"id": r[0], "name": d1(r[1]), ..., "_saved": True}``
    (``r[offset + 0]``, ... with an ``offset``), set past ``Table.__setattr__``
    (a loaded value needs no check; the call would cost half as much again).

    Rows as objects is the ORM's hottest loop, and a dict display built from
    indexes is about 1.7x faster than ``dict(zip(...))`` followed by setting
    ``_saved`` and decoding in place. The source holds only ``repr()``-quoted
    keys and positions. ``None`` (the general path) when keys repeat or one
    is ``_saved``, where the two would not give the same dict.
    """
    if len(set(keys)) != len(keys) or "_saved" in keys:
        return None
    decode = dict(decoders)
    namespace: dict[str, Any] = {f"d{i}": d for i, d in decode.items()}
    items = ", ".join(
        f"{key!r}: d{i}(r[{offset + i}])" if i in decode else f"{key!r}: r[{offset + i}]"
        for i, key in enumerate(keys)
    )
    source = (
        "def load(rows, table, new=object.__new__, put=object.__setattr__):\n"
        "    result = []\n"
        "    append = result.append\n"
        "    for r in rows:\n"
        "        obj = new(table)\n"
        f"        put(obj, '__dict__', {{{items}{', ' if items else ''}'_saved': True}})\n"
        "        append(obj)\n"
        "    return result\n"
    )
    exec(source, namespace)
    loader: _Loader = namespace["load"]
    return loader


def _table_load(table: type[Table[Any]], dialect: Dialect) -> RowLoad:
    load = table._meta.loaders.get(dialect.name)
    if load is None:
        columns = table._meta.columns
        load = RowLoad(columns, dialect, [c._meta.name for c in columns])
        table._meta.loaders[dialect.name] = load
    return load


# -- shared clauses ----------------------------------------------------------------


class _Filtered(Query[ResultT]):
    """A query with a ``WHERE`` clause."""

    _where: Condition | None = None

    def where(self, *conditions: Condition) -> Self:
        """Add conditions; several (and several calls) are ANDed."""
        new = self._copy()
        if len(conditions) == 1 and self._where is None and isinstance(conditions[0], Condition):
            new._where = conditions[0]  # the common case, quickly
            return new
        for condition in conditions:
            if not isinstance(condition, Condition):
                raise TypeError(
                    f"where() takes conditions such as Band.name == 'x'; got {condition!r}"
                )
            new._where = condition if new._where is None else new._where & condition
        return new

    def _where_sql(self, c: Compiler) -> str:
        return f" WHERE {self._where.compile(c)}" if self._where is not None else ""


def _check_count(value: int, what: str) -> int:
    if type(value) is int and value >= 0:
        return value
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{what} takes a non-negative int; got {value!r}")
    return value


class _Ordered(_Filtered[ResultT]):
    """``ORDER BY``, ``LIMIT`` and ``OFFSET``."""

    _order: tuple[tuple[Column[Any], bool], ...] = ()
    _limit: int | None = None
    _offset: int | None = None

    def order_by(self, *columns: Column[Any] | str, ascending: bool = True) -> Self:
        """``ORDER BY`` the columns (names or join paths allowed)."""
        new = self._copy()
        if len(columns) == 1 and isinstance(columns[0], Column):  # the common case, quickly
            new._order = (*self._order, (columns[0], ascending))
            return new
        resolve = self._table._resolve
        new._order = (
            *self._order,
            *[(c if isinstance(c, Column) else resolve(c), ascending) for c in columns],
        )
        return new

    def limit(self, number: int) -> Self:
        """``LIMIT number``."""
        new = self._copy()
        new._limit = _check_count(number, "limit()")
        return new

    def offset(self, number: int) -> Self:
        """``OFFSET number``."""
        new = self._copy()
        new._offset = _check_count(number, "offset()")
        return new

    def _order_sql(self, c: Compiler) -> str:
        if not self._order:
            return ""
        return " ORDER BY " + ", ".join(
            f"{order_term(c, col, c.column(col))} {'ASC' if asc else 'DESC'}"
            for col, asc in self._order
        )

    def _limit_sql(self, dialect: Dialect) -> str:
        """``LIMIT`` and ``OFFSET`` (no parameters: their values are checked ints)."""
        limit, offset = self._limit, self._offset
        if offset is None:
            return "" if limit is None else f" LIMIT {limit}"
        if limit is not None:
            return f" LIMIT {limit} OFFSET {offset}"
        if dialect.offset_needs_limit:
            return f" LIMIT -1 OFFSET {offset}"  # SQLite accepts OFFSET only after a LIMIT
        return f" OFFSET {offset}"


# -- compiled statements, by query shape ---------------------------------------------

#: Statements compiled before, by query shape: the text up to ``ORDER BY``
#: for queries with the same table, columns, operators and clauses, values
#: left out (they are bound again from the query at hand), and the objects
#: whose ``id()`` the key holds (kept alive so that no id is reused while the
#: entry exists). Bounded: emptied when full.
_COMPILED: dict[tuple[object, ...], tuple[str, list[object]]] = {}
_COMPILED_MAX = 4096
#: Whether ``_statement`` uses ``_COMPILED`` (tests compare both ways).
_use_compiled = True


def _plain(column: Column[Any]) -> bool:
    """Whether ``column`` compiles to a bare reference (no values, no aggregate)."""
    return column._expr is None and column._plain


def _statement(
    query: _Ordered[Any],
    dialect: Dialect,
    head: tuple[object, ...] | None,
    refs: list[object],
    render: Callable[[Compiler], str],
) -> tuple[str, list[object]]:
    """``query``'s statement: ``render`` writes it up to ``ORDER BY`` on a
    compiler, then come ``LIMIT`` and ``OFFSET``.

    ``head`` is the shape of what ``render`` writes besides the ``WHERE`` and
    ``ORDER BY`` clauses (``None``: not cacheable), with the objects it
    identifies by ``id()`` in ``refs``. With the shapes of the condition and of
    the ordering it keys the cache: a query of a known shape is not compiled
    again, only its values are converted. A first compilation is cached only
    when the parameters it bound are exactly those the shape walk found.
    """
    limit = "" if query._limit is None and query._offset is None else query._limit_sql(dialect)
    values: Bound = []
    key = _shape_key(query, dialect, head, refs, values)
    if key is not None:
        hit = _COMPILED.get(key)
        if hit is not None:
            return hit[0] + limit, [v if f is None else f(v, dialect) for f, v in values]
    c = Compiler(dialect, query._table)
    sql = render(c)
    if key is not None and c.params == [v if f is None else f(v, dialect) for f, v in values]:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        _COMPILED[key] = (sql, refs)
    return sql + limit, c.params


def _shape_key(
    query: _Ordered[Any],
    dialect: Dialect,
    head: tuple[object, ...] | None,
    refs: list[object],
    values: Bound,
) -> tuple[object, ...] | None:
    """The cache key of ``query``'s statement (``None``: not cacheable), its
    condition's values added to ``values`` and the objects it names to ``refs``."""
    if head is None or not _use_compiled:
        return None
    where = query._where
    shape: Shape | None = None
    if where is not None:
        shape = where._shape(values, refs)
        if shape is None:
            return None
    order: list[object] = []
    for column, ascending in query._order:
        if column._expr is not None or not column._plain:
            return None
        refs.append(column)
        order += (id(column), ascending)
    return (head, dialect.name, shape, *order)


def _select_sql(
    query: _Ordered[Any],
    columns: Callable[[], Sequence[Column[Any]]],
    dialect: Dialect,
    head: tuple[object, ...] | None,
    refs: list[object],
) -> tuple[str, list[object]]:
    """``SELECT columns() FROM query's table`` with its clauses (``head``, ``refs``:
    see ``_statement``; the columns must follow from ``head``)."""
    table = query._table

    def render(c: Compiler) -> str:
        select_list = ", ".join(c.column(col) for col in columns())
        where = query._where_sql(c)
        order = query._order_sql(c)
        return (
            f"SELECT {select_list} FROM {quote(table._meta.tablename)}"
            f"{c.join_clause()}{where}{order}"
        )

    return _statement(query, dialect, head, refs, render)


class First(Query[R | None], Generic[R]):
    """The first result of a list query, or ``None``."""

    def __init__(self, query: Query[list[R]]) -> None:
        self._table = query._table
        self._query = query

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._query._sql(dialect)

    async def _run(self, engine: Engine) -> R | None:
        rows = await self._query._run(engine)
        return rows[0] if rows else None

    def _read_only(self) -> bool | None:
        return self._query._read_only()


class Callback(Query[ResultT]):
    """A query whose result goes through a function (see ``Query.callback``)."""

    def __init__(self, query: Query[Any], function: Callable[[Any], Any]) -> None:
        if not callable(function):
            raise TypeError(f"callback() takes a function; got {function!r}")
        self._table = query._table
        self._query = query
        self._function = function

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._query._sql(dialect)

    async def _run(self, engine: Engine) -> ResultT:
        result = self._function(await self._query._run(engine))
        if inspect.isawaitable(result):
            result = await result
        return cast(ResultT, result)

    def _read_only(self) -> bool | None:
        return self._query._read_only()
