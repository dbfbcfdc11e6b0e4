"""``SELECT`` queries: rows as dicts, lists, tuples or JSON; counts; raw SQL."""

from __future__ import annotations

import functools
import json
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Coroutine,
    Generator,
    Sequence,
)
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Generic,
    Literal,
    Protocol,
    Self,
    TypeVar,
    get_args,
    overload,
)

from ._aggregate import Aggregate
from ._columns import JSON, Column, ForeignKey
from ._dialect import Dialect
from ._query import First, Query, RowLoad, _Filtered, _Ordered, _plain, _statement, _table_load
from ._sql import Compiler, order_term, quote

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

ResultT = TypeVar("ResultT")
R = TypeVar("R")
C = TypeVar("C")
T1 = TypeVar("T1")
TableT = TypeVar("TableT", bound="Table[Any]")
ItemT = TypeVar("ItemT")

__all__ = [
    "Select",
    "SelectJSON",
    "Frozen",
    "CountQuery",
    "Exists",
    "Raw",
    "Batch",
    "LockStrength",
]

_Output = Literal["dicts", "list", "tuples"]

#: Row lock strengths of ``lock_rows()`` (PostgreSQL's ``FOR ...`` clauses).
LockStrength = Literal["UPDATE", "NO KEY UPDATE", "SHARE", "KEY SHARE"]
_LOCK_STRENGTHS: Final = get_args(LockStrength)


class _NeedsPostgres(NotImplementedError):
    """A PostgreSQL-only clause used with SQLite."""


def _require_postgres(dialect: Dialect, feature: str) -> None:
    if not dialect.row_locks_and_distinct_on:
        raise _NeedsPostgres(f"{feature} needs PostgreSQL; SQLite has no such clause")


def _check_engine_now(table: type[Table[Any]], feature: str) -> None:
    # The engine is known when the table is bound to one (use_engine): fail
    # at the call rather than when the query runs. Otherwise _sql() checks.
    db = table._meta.db
    if db is not None:
        _require_postgres(db.dialect, feature)


def _expression(c: Compiler, column: Column[Any]) -> str:
    """A selected column or aggregate as SQL."""
    if isinstance(column, Aggregate):
        return column._expression(c)
    return c.column(column)


def _output_key(column: Column[Any]) -> str:
    return column._meta.alias or column._meta.key


class _Lock:
    """A ``FOR UPDATE``-style clause."""

    __slots__ = ("strength", "nowait", "skip_locked", "of")

    def __init__(
        self,
        strength: str,
        nowait: bool,
        skip_locked: bool,
        of: tuple[type[Table[Any]], ...],
    ) -> None:
        self.strength = strength
        self.nowait = nowait
        self.skip_locked = skip_locked
        self.of = of

    @classmethod
    def make(
        cls,
        table: type[Table[Any]],
        strength: str,
        nowait: bool,
        skip_locked: bool,
        of: Sequence[type[Table[Any]]],
    ) -> _Lock:
        """The clause of ``lock_rows(...)``, its arguments checked."""
        if strength not in _LOCK_STRENGTHS:
            raise ValueError(
                f"lock_strength must be one of {', '.join(map(repr, _LOCK_STRENGTHS))}; "
                f"got {strength!r}"
            )
        if nowait and skip_locked:
            raise ValueError("lock_rows() takes nowait or skip_locked, not both")
        _check_engine_now(table, "lock_rows()")
        return cls(strength, nowait, skip_locked, tuple(of))

    def sql(self, c: Compiler) -> str:
        quote = c.dialect.quote
        root = c.root
        names: list[str] = []
        tables = self.of
        if not tables and c.joins:
            # Every join is a LEFT JOIN, whose nullable side PostgreSQL cannot
            # lock: lock the queried table's rows.
            tables = (root,)
        for table in tables:
            aliases = [alias for alias, (_, fk) in c.joins.items() if fk.target() is table]
            if table is root:
                aliases.insert(0, root._meta.tablename)
            if not aliases:
                raise ValueError(
                    f"lock_rows(of=...) names {table.__name__}, which this query "
                    f"neither selects from nor joins"
                )
            names.extend(quote(alias) for alias in aliases)
        sql = f" FOR {self.strength}"
        if names:
            sql += " OF " + ", ".join(names)
        if self.nowait:
            sql += " NOWAIT"
        if self.skip_locked:
            sql += " SKIP LOCKED"
        return sql


class Select(_Ordered[list[R]], Generic[R, C]):
    """``SELECT``: ``R`` is what one row becomes, ``C`` the selected value types."""

    _distinct = False
    _distinct_on: tuple[Column[Any], ...] = ()
    _group_by: tuple[Column[Any], ...] = ()
    _lock: _Lock | None = None
    _output: _Output = "dicts"
    _load_json = False
    _nested = False

    def __init__(self, table: type[Table[Any]], columns: list[Column[Any]] | None) -> None:
        self._table = table
        self._columns = columns

    def _selected(self) -> list[Column[Any]]:
        return self._columns if self._columns is not None else self._table._meta.columns

    def _read_only(self) -> bool:
        return self._lock is None  # FOR UPDATE locks rows on the primary

    def distinct(self, *, on: Sequence[Column[Any] | str] | None = None) -> Self:
        """``SELECT DISTINCT``; with ``on=[...]``, PostgreSQL's ``DISTINCT ON (...)``
        (one row per distinct value of those columns: the first in ``order_by()``)."""
        new = self._copy()
        if on is None:
            new._distinct, new._distinct_on = True, ()
            return new
        if isinstance(on, str) or not on:
            raise ValueError("distinct(on=...) takes a non-empty list of columns")
        _check_engine_now(self._table, "distinct(on=...)")
        new._distinct, new._distinct_on = False, tuple(self._table._resolve(c) for c in on)
        return new

    def group_by(self, *columns: Column[Any] | str) -> Self:
        """``GROUP BY`` the columns; select them with aggregates (``Count()``, ...)."""
        if not columns:
            raise ValueError("group_by() takes at least one column")
        new = self._copy()
        new._group_by = (*self._group_by, *(self._table._resolve(c) for c in columns))
        return new

    def lock_rows(
        self,
        lock_strength: LockStrength = "UPDATE",
        *,
        nowait: bool = False,
        skip_locked: bool = False,
        of: Sequence[type[Table[Any]]] = (),
    ) -> Self:
        """Lock the selected rows (``FOR UPDATE`` and the like; PostgreSQL only).

        Run it inside a transaction: the locks last until it ends. ``nowait``
        fails at once on a row locked by another transaction, ``skip_locked``
        leaves such rows out; ``of`` limits the lock to those tables' rows.
        """
        new = self._copy()
        new._lock = _Lock.make(self._table, lock_strength, nowait, skip_locked, of)
        return new

    def first(self) -> First[R]:
        """The first row, or ``None``."""
        return First(self.limit(1))

    @overload
    def output(
        self: Select[Any, tuple[T1]],
        *,
        as_list: Literal[True],
        load_json: Literal[False] = False,
    ) -> Select[T1, C]: ...
    @overload
    def output(
        self: Select[Any, tuple[Any]], *, as_list: Literal[True], load_json: Literal[True]
    ) -> Select[Any, tuple[Any]]: ...
    @overload
    def output(
        self, *, as_tuples: Literal[True], load_json: Literal[False] = False
    ) -> Select[C, C]: ...
    @overload
    def output(
        self, *, as_tuples: Literal[True], load_json: Literal[True]
    ) -> Select[tuple[Any, ...], tuple[Any, ...]]: ...
    @overload
    def output(
        self, *, as_json: Literal[True], load_json: bool = False, nested: bool = False
    ) -> SelectJSON: ...
    @overload
    def output(
        self, *, nested: Literal[True], load_json: bool = False
    ) -> Select[dict[str, Any], C]: ...
    @overload
    def output(self, *, load_json: Literal[True]) -> Select[dict[str, Any], tuple[Any, ...]]: ...
    def output(
        self,
        *,
        as_list: bool = False,
        as_tuples: bool = False,
        as_json: bool = False,
        load_json: bool = False,
        nested: bool = False,
    ) -> Any:
        """Change what rows become: values of one column, tuples, JSON text,
        dicts with JSON columns parsed (``load_json``), or dicts nested by
        join path (``nested``: ``{"name": ..., "manager": {"name": ...}}``).

        Each call sets the whole output, replacing an earlier one.
        """
        if as_list + as_tuples + as_json > 1 or (nested and (as_list or as_tuples)):
            raise ValueError(
                "output() takes one of as_list, as_tuples, as_json and nested "
                "(as_json may be nested); load_json goes with any"
            )
        if not (as_list or as_tuples or as_json or load_json or nested):
            raise ValueError("output() needs an option set to True")
        new = self._copy()
        new._output, new._load_json, new._nested = "dicts", load_json, nested
        if as_list:
            if len(self._selected()) != 1:
                raise ValueError("output(as_list=True) needs exactly one selected column")
            new._output = "list"
        elif as_tuples:
            new._output = "tuples"
        elif as_json:
            return SelectJSON(new)
        return new

    def freeze(self) -> Frozen[list[R]]:
        """This query with its SQL compiled once per dialect."""
        return Frozen(self)

    def batch(
        self, batch_size: int = 100, *, engine: Engine | None = None, node: str | None = None
    ) -> Batch[R]:
        """The rows in lists of ``batch_size``: ``async for rows in q.batch(...)``.

        PostgreSQL reads through a server-side cursor (in the open transaction,
        else in one of its own), SQLite through ``cursor.fetchmany``: the rows
        are never all in memory at once. ``engine`` and ``node`` as in ``run()``.
        """
        return Batch(self, _check_size(batch_size), engine, node)

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        if self._lock is not None:
            # FOR UPDATE comes after LIMIT and depends on the joins: never cached.
            _require_postgres(dialect, "lock_rows()")
            c = Compiler(dialect, self._table)
            sql = self._render(c) + self._limit_sql(dialect)
            return sql + self._lock.sql(c), c.params
        refs: list[object] = []
        return _statement(self, dialect, self._head(refs), refs, self._render)

    def _head(self, refs: list[object]) -> tuple[object, ...] | None:
        """The shape of this select besides its condition and order (see
        ``_statement``): ``None`` when a column is not a plain one."""
        table = self._table
        refs.append(table)
        columns = self._columns
        selected: list[object] = [Select, id(table), self._distinct]
        if columns is not None:
            for column in columns:
                if column._expr is not None or not column._plain:
                    return None
                selected.append(id(column))
            refs += columns
        if self._distinct_on or self._group_by:
            clauses = (*self._distinct_on, *self._group_by)
            if not all(map(_plain, clauses)):
                return None
            refs += clauses
            selected += (None, len(self._distinct_on), *map(id, clauses))
        return tuple(selected)

    def _render(self, c: Compiler) -> str:
        """The statement up to ``ORDER BY`` (``LIMIT``, ``OFFSET``, locks come after)."""
        items = []
        for column in self._selected():
            # _expression() inlined: this loop is on every query's path.
            if isinstance(column, Aggregate):
                items.append(f"{column._expression(c)} AS {quote(_output_key(column))}")
            elif column._meta.alias is not None:
                items.append(f"{c.column(column)} AS {quote(_output_key(column))}")
            else:
                items.append(c.column(column))
        distinct = ""
        if self._distinct_on:
            _require_postgres(c.dialect, "distinct(on=...)")
            distinct = f"DISTINCT ON ({', '.join(c.column(col) for col in self._distinct_on)}) "
        elif self._distinct:
            distinct = "DISTINCT "
        where = self._where_sql(c)
        group = ""
        if self._group_by:
            group = " GROUP BY " + ", ".join(c.column(col) for col in self._group_by)
        order = self._order_sql(c)
        return (
            f"SELECT {distinct}{', '.join(items)}"
            f" FROM {quote(self._table._meta.tablename)}{c.join_clause()}{where}{group}{order}"
        )

    def _order_sql(self, c: Compiler) -> str:
        # As _Ordered's, but ORDER BY may name an aggregate (Count(), ...).
        if not self._order:
            return ""
        # A plain loop, _expression() inlined: on every select's path.
        parts = []
        for col, asc in self._order:
            if isinstance(col, Aggregate):
                expr = col._order_expression(c)
            else:
                expr = c.column(col)
                if col._decimal_text or col._enum_values:
                    expr = order_term(c, col, expr)
            parts.append(f"{expr} ASC" if asc else f"{expr} DESC")
        return " ORDER BY " + ", ".join(parts)

    def _loader(self, dialect: Dialect) -> RowLoad:
        if self._columns is None and not self._load_json:
            return _table_load(self._table, dialect)
        columns = self._selected()
        overrides = (
            {i: _load_json for i, column in enumerate(columns) if isinstance(column, JSON)}
            if self._load_json
            else None
        )
        return RowLoad(columns, dialect, [_output_key(col) for col in columns], overrides)

    def _convert(self, rows: Sequence[Sequence[Any]], load: RowLoad) -> list[Any]:
        if self._output == "dicts":
            if self._nested:
                return _nest(load.dicts(rows), self._selected(), load.keys)
            return load.dicts(rows)
        if self._output == "tuples":
            return load.tuples(rows)
        return [t[0] for t in load.tuples(rows)]

    def _batch_converter(self, dialect: Dialect) -> Callable[[list[Sequence[Any]]], list[Any]]:
        load = self._loader(dialect)
        return lambda rows: self._convert(rows, load)

    async def _run(self, engine: Engine) -> list[R]:
        sql, params = self._sql(engine.dialect)
        rows = await engine._fetch_built(sql, params)
        return self._convert(rows, self._loader(engine.dialect))


def _load_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _nest(
    rows: list[dict[str, Any]], columns: Sequence[Column[Any]], keys: Sequence[str]
) -> list[dict[str, Any]]:
    """Rows keyed by dotted paths (``manager.name``) as nested dicts."""
    paths = [tuple(key.split(".")) for key in keys]
    prefixes = {path[:i] for path in paths for i in range(1, len(path))}
    places: list[tuple[str, tuple[str, ...]]] = []
    for key, path, column in zip(keys, paths, columns):
        if path in prefixes:
            # A foreign key selected along with columns reached through it:
            # its value goes into the nested dict, as the target's key.
            pk = column._target_key()._meta.name if isinstance(column, ForeignKey) else "id"
            path = (*path, pk)
        places.append((key, path))
    if all(len(path) == 1 for _, path in places):
        return rows
    result = []
    for row in rows:
        out: dict[str, Any] = {}
        for key, path in places:
            node = out
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = row[key]
        result.append(out)
    return result


def _check_size(batch_size: int) -> int:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    return batch_size


class _Batchable(Protocol):
    """A list query that can be read in batches."""

    _table: type[Table[Any]]

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]: ...
    def _engine(self) -> Engine: ...
    def _read_only(self) -> bool | None: ...
    def _batch_converter(self, dialect: Dialect) -> Callable[[list[Sequence[Any]]], list[Any]]: ...


class Batch(Generic[ItemT]):
    """Rows read a batch at a time: ``async for rows in query.batch(batch_size=100):``.

    Each iteration runs the query afresh. Leaving the loop early (``break``,
    an exception) is fine: the cursor (and its transaction on PostgreSQL) is
    closed when the iterator is, which CPython does at once. Piccolo's form,
    ``async with await query.batch(...) as batch: async for rows in batch:``,
    works too and closes the cursor when the block ends.
    """

    def __init__(
        self,
        query: _Batchable,
        batch_size: int,
        engine: Engine | None = None,
        node: str | None = None,
    ) -> None:
        self._query = query
        self._batch_size = batch_size
        self._engine = engine
        self._node = node
        # Weak: an iterator refers to this batch, and a cycle would keep a
        # loop left with ``break`` from closing its cursor at once.
        self._open: weakref.WeakSet[AsyncGenerator[list[ItemT], None]] = weakref.WeakSet()

    def __aiter__(self) -> AsyncIterator[list[ItemT]]:
        iterator = self._iterate()
        self._open.add(iterator)
        return iterator

    async def _iterate(self) -> AsyncGenerator[list[ItemT], None]:
        engine = self._engine or self._query._engine()
        if self._node is not None or engine._routes:
            # No fallback once rows were read: the node is chosen up front.
            engine = await engine._choose(self._node, self._query._read_only())
        sql, params = self._query._sql(engine.dialect)
        convert = self._query._batch_converter(engine.dialect)
        batches = engine._batches_built(sql, params, self._batch_size)
        try:
            async for rows in batches:
                yield convert(rows)
        finally:
            await batches.aclose()

    def __await__(self) -> Generator[Any, None, Self]:
        # ``await query.batch(...)``, as in Piccolo, gives the batch itself.
        if False:  # pragma: no cover - makes this a generator function
            yield
        return self

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        open_iterators = list(self._open)
        self._open.clear()
        for iterator in open_iterators:
            await iterator.aclose()

    def __repr__(self) -> str:
        return f"<Batch of {self._batch_size}: {self._query}>"


def _json_default(value: object) -> object:
    # Dates, decimals, UUIDs and enums as their text, like Piccolo's as_json.
    if hasattr(value, "value"):
        return value.value
    return str(value)


class SelectJSON(Query[str]):
    """A select whose result is the rows as one JSON array (text)."""

    def __init__(self, select: Select[Any, Any]) -> None:
        self._table = select._table
        self._select = select

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._select._sql(dialect)

    async def _run(self, engine: Engine) -> str:
        rows = await self._select._run(engine)
        return json.dumps(rows, default=_json_default)

    def _read_only(self) -> bool | None:
        return self._select._read_only()


def _never_bound() -> Coroutine[Any, Any, Any]:
    raise AssertionError("a frozen query is bound to an engine before its first call")


class Frozen(Query[ResultT]):
    """A query whose SQL is compiled once per dialect and then reused."""

    def __init__(self, query: Select[Any, Any]) -> None:
        self._table = query._table
        self._query = query
        #: dialect name -> (sql, params, rows -> result)
        self._cache: dict[str, tuple[str, list[object], Callable[[Any], Any]]] = {}
        #: The engine of the last unrouted run and that run's call of it (its
        #: ``_fetch_converted`` with the compiled entry bound), in one tuple
        #: replaced whole (threads never see one engine with another's call):
        #: a run on the same engine is one identity test and one call. It
        #: holds the engine until a run on another one.
        self._binding: tuple[Engine | None, Callable[[], Coroutine[Any, Any, Any]]] = (
            None,
            _never_bound,
        )

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._query._sql(dialect)

    def _compiled(self, dialect: Dialect) -> tuple[str, list[object], Callable[[Any], Any]]:
        query = self._query
        sql, params = query._sql(dialect)
        load = query._loader(dialect)
        convert: Callable[[Any], Any]
        if query._output == "dicts" and not query._nested:
            # The common output, bound once: a run skips _convert's dispatch.
            convert = load.dicts
        else:

            def convert(rows: Any) -> Any:
                return query._convert(rows, load)

        cached = self._cache[dialect.name] = (sql, params, convert)
        return cached

    def run(
        self, *, engine: Engine | None = None, node: str | None = None
    ) -> Coroutine[Any, Any, ResultT]:
        """Run the query on ``engine`` (default: the table's engine); ``node``: see
        ``Query.run()``. Await the result as with any query."""
        # Not a coroutine function: the coroutine returned is the engine's own
        # (fetch and convert in one), one coroutine per run where Query.run()
        # has two. A frozen query exists to be run often, so its per-run
        # overhead is what it is for. An error finding the engine is raised
        # by this call rather than by the await.
        target = engine or self._engine()
        binding = self._binding
        if binding[0] is target and node is None:
            return binding[1]()
        if node is not None or target._routes:
            # Not bound: the node is chosen per run (an engine's routes are
            # fixed when it is made).
            return target._routed(self, node)
        dialect = target.dialect
        entry = self._cache.get(dialect.name) or self._compiled(dialect)
        call = functools.partial(target._fetch_converted, *entry)
        self._binding = (target, call)
        return call()

    async def _run(self, engine: Engine) -> ResultT:
        dialect = engine.dialect
        sql, params, convert = self._cache.get(dialect.name) or self._compiled(dialect)
        result: ResultT = convert(await engine._fetch_built(sql, params))
        return result

    def _read_only(self) -> bool | None:
        return self._query._read_only()


class CountQuery(_Filtered[int]):
    """``SELECT COUNT(*)``; ``COUNT(column)`` (non-null values) with ``column``;
    the number of distinct value combinations with ``distinct`` (Piccolo's
    ``count(column=None, distinct=None)``)."""

    def __init__(
        self,
        table: type[Table[Any]],
        column: Column[Any] | None = None,
        distinct: Sequence[Column[Any]] | None = None,
    ) -> None:
        if column is not None and distinct:
            raise ValueError("count() takes column= or distinct=, not both")
        if distinct is not None and not distinct:
            raise ValueError("count(distinct=...) needs at least one column")
        self._table = table
        self._column = column
        self._distinct = tuple(distinct) if distinct else ()

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        c = Compiler(dialect, self._table)
        table = dialect.quote(self._table._meta.tablename)
        if len(self._distinct) == 1:
            # COUNT(DISTINCT x) leaves NULL out, as Piccolo's count(distinct=[x]) does.
            counted = c.column(self._distinct[0])
            return f"SELECT COUNT(DISTINCT {counted}) {self._table_sql(c, table)}", c.params
        if self._distinct:
            # Distinct combinations, leaving out those whose columns are all NULL
            # (the rule COUNT(DISTINCT x) follows for one column).
            selected = ", ".join(
                f'{c.column(col)} AS "c{i}"' for i, col in enumerate(self._distinct)
            )
            inner = f"SELECT DISTINCT {selected} {self._table_sql(c, table)}"
            all_null = " AND ".join(f'"c{i}" IS NULL' for i in range(len(self._distinct)))
            return (
                f'SELECT COUNT(*) FROM ({inner}) AS "distinct_rows" WHERE NOT ({all_null})',
                c.params,
            )
        counted = c.column(self._column) if self._column is not None else "*"
        return f"SELECT COUNT({counted}) {self._table_sql(c, table)}", c.params

    def _table_sql(self, c: Compiler, table: str) -> str:
        """``FROM ... WHERE ...``, compiled after the select list (parameter order)."""
        where = self._where_sql(c)
        return f"FROM {table}{c.join_clause()}{where}"

    async def _run(self, engine: Engine) -> int:
        sql, params = self._sql(engine.dialect)
        rows = await engine._fetch_built(sql, params)
        return int(rows[0][0])

    def _read_only(self) -> bool:
        return True


class Exists(_Filtered[bool]):
    """Whether any row matches."""

    def __init__(self, table: type[Table[Any]]) -> None:
        self._table = table

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        c = Compiler(dialect, self._table)
        where = self._where_sql(c)
        table = dialect.quote(self._table._meta.tablename)
        return f"SELECT EXISTS (SELECT 1 FROM {table}{c.join_clause()}{where})", c.params

    async def _run(self, engine: Engine) -> bool:
        sql, params = self._sql(engine.dialect)
        rows = await engine._fetch_built(sql, params)
        return bool(rows[0][0])

    def _read_only(self) -> bool:
        return True


class Raw(Query[list[dict[str, Any]]]):
    """SQL as written; each ``{}`` becomes a bound parameter."""

    def __init__(self, table: type[Table[Any]], sql: str, args: tuple[object, ...]) -> None:
        pieces = sql.split("{}")
        if len(pieces) - 1 != len(args):
            raise ValueError(
                f"raw() has {len(pieces) - 1} {{}} placeholder(s) but {len(args)} argument(s)"
            )
        self._table = table
        self._pieces = pieces
        self._args = list(args)

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        out = [self._pieces[0]]
        for i, piece in enumerate(self._pieces[1:], start=1):
            out.append(dialect.placeholder(i))
            out.append(piece)
        return "".join(out), self._args

    async def _run(self, engine: Engine) -> list[dict[str, Any]]:
        sql, params = self._sql(engine.dialect)
        return await engine.fetch_dicts(sql, params)

    def _read_only(self) -> bool | None:
        return None  # any SQL: the primary, unless node= says otherwise
