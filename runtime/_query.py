"""Query builders: immutable, awaitable, and printable.

Every clause returns a new query, so a partial query can be kept and reused.
Every query runs with ``await q``, ``await q.run()`` or ``q.run_sync()``, all
with the same result type, and ``str(q)`` shows its SQL.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast, overload

from typing_extensions import Self

from ._columns import Column, ForeignKey, Serial
from ._dialect import POSTGRES, Dialect
from ._sql import Compare, Compiler, Condition, interpolate

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

__all__ = [
    "Query",
    "Select",
    "SelectJSON",
    "First",
    "Objects",
    "GetOrCreate",
    "Insert",
    "Update",
    "Delete",
    "Count",
    "Exists",
    "Raw",
    "CreateTable",
    "DropTables",
    "Save",
    "Remove",
    "Related",
    "Frozen",
    "RowLoad",
]

ResultT = TypeVar("ResultT")
R = TypeVar("R")
C = TypeVar("C")
T1 = TypeVar("T1")
TableT = TypeVar("TableT", bound="Table[Any]")

# Parameters per statement stay below both drivers' limits (32767).
_MAX_PARAMS = 30_000


class Query(Generic[ResultT]):
    """Base of every query: how it runs, and how it prints."""

    _table: type[Table[Any]]

    def _engine(self) -> Engine:
        db = self._table._meta.db
        if db is not None:
            return db
        from ._discovery import engine_finder

        return engine_finder()

    def _copy(self) -> Self:
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    async def run(self, *, engine: Engine | None = None) -> ResultT:
        """Run the query on ``engine`` (default: the table's engine)."""
        return await self._run(engine or self._engine())

    async def _run(self, engine: Engine) -> ResultT:
        raise NotImplementedError

    def __await__(self) -> Generator[Any, None, ResultT]:
        return self.run().__await__()

    def run_sync(self, *, engine: Engine | None = None) -> ResultT:
        """Run the query to completion from synchronous code."""
        from ._sync import run_sync

        return run_sync(self.run(engine=engine))

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        """The statement (the first, if it runs several) and its parameters."""
        raise NotImplementedError

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

    __slots__ = ("keys", "decoders")

    def __init__(self, columns: Sequence[Column[Any]], dialect: Dialect, keys: Sequence[str]):
        self.keys = tuple(keys)
        self.decoders = [
            (i, d) for i, c in enumerate(columns) if (d := c._from_db(dialect)) is not None
        ]

    def dicts(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
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
        new = object.__new__
        result: list[TableT] = []
        append = result.append
        for item in self.dicts(rows):
            obj = new(table)
            item["_saved"] = True
            obj.__dict__ = item
            append(obj)
        return result


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
        new._order = (*self._order, *((self._table._resolve(c), ascending) for c in columns))
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

    def _tail_sql(self, c: Compiler) -> str:
        sql = ""
        if self._order:
            sql += " ORDER BY " + ", ".join(
                f"{c.column(col)} {'ASC' if asc else 'DESC'}" for col, asc in self._order
            )
        if self._limit is not None:
            sql += f" LIMIT {self._limit}"
        if self._offset is not None:
            if self._limit is None and c.dialect.name == "sqlite":
                sql += " LIMIT -1"  # SQLite accepts OFFSET only after a LIMIT
            sql += f" OFFSET {self._offset}"
        return sql


def _select_sql(
    query: _Ordered[Any], columns: Sequence[Column[Any]], dialect: Dialect, distinct: bool
) -> tuple[str, list[object]]:
    table = query._table
    c = Compiler(dialect, table)
    select_list = ", ".join(c.column(col) for col in columns)
    where = query._where_sql(c)
    tail = query._tail_sql(c)
    quote = dialect.quote
    sql = (
        f"SELECT {'DISTINCT ' if distinct else ''}{select_list}"
        f" FROM {quote(table._meta.tablename)}{c.join_clause()}{where}{tail}"
    )
    return sql, c.params


# -- select ------------------------------------------------------------------------

_Output = Literal["dicts", "list", "tuples", "json"]


class Select(_Ordered[list[R]], Generic[R, C]):
    """``SELECT``: ``R`` is what one row becomes, ``C`` the selected value types."""

    _distinct = False
    _output: _Output = "dicts"

    def __init__(self, table: type[Table[Any]], columns: list[Column[Any]] | None) -> None:
        self._table = table
        self._columns = columns

    def _selected(self) -> list[Column[Any]]:
        return self._columns if self._columns is not None else self._table._meta.columns

    def distinct(self) -> Self:
        """``SELECT DISTINCT``."""
        new = self._copy()
        new._distinct = True
        return new

    def first(self) -> First[R]:
        """The first row, or ``None``."""
        return First(self.limit(1))

    @overload
    def output(self: Select[Any, tuple[T1]], *, as_list: Literal[True]) -> Select[T1, C]: ...
    @overload
    def output(self, *, as_tuples: Literal[True]) -> Select[C, C]: ...
    @overload
    def output(self, *, as_json: Literal[True]) -> SelectJSON: ...
    def output(
        self, *, as_list: bool = False, as_tuples: bool = False, as_json: bool = False
    ) -> Any:
        """Change what rows become: values of one column, tuples, or JSON text."""
        if as_list + as_tuples + as_json != 1:
            raise ValueError("output() takes exactly one of as_list, as_tuples, as_json")
        new = self._copy()
        if as_list:
            if len(self._selected()) != 1:
                raise ValueError("output(as_list=True) needs exactly one selected column")
            new._output = "list"
        elif as_tuples:
            new._output = "tuples"
        else:
            return SelectJSON(new)
        return new

    def freeze(self) -> Frozen[list[R]]:
        """This query with its SQL compiled once per dialect."""
        return Frozen(self)

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return _select_sql(self, self._selected(), dialect, self._distinct)

    def _loader(self, dialect: Dialect) -> RowLoad:
        if self._columns is None:
            return _table_load(self._table, dialect)
        columns = self._columns
        return RowLoad(columns, dialect, [col._meta.key for col in columns])

    def _convert(self, rows: Sequence[Sequence[Any]], load: RowLoad) -> list[Any]:
        if self._output == "dicts":
            return load.dicts(rows)
        if self._output == "tuples":
            return load.tuples(rows)
        return [t[0] for t in load.tuples(rows)]

    async def _run(self, engine: Engine) -> list[R]:
        sql, params = self._sql(engine.dialect)
        rows = await engine.fetch(sql, params)
        return self._convert(rows, self._loader(engine.dialect))


def _json_default(value: object) -> object:
    # Dates, decimals, UUIDs and enums as their text, like Piccolo's as_json.
    if hasattr(value, "value"):
        return getattr(value, "value")
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


class Frozen(Query[ResultT]):
    """A query whose SQL is compiled once per dialect and then reused."""

    def __init__(self, query: Select[Any, Any]) -> None:
        self._table = query._table
        self._query = query
        self._cache: dict[str, tuple[str, list[object], RowLoad]] = {}

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._query._sql(dialect)

    async def _run(self, engine: Engine) -> ResultT:
        dialect = engine.dialect
        cached = self._cache.get(dialect.name)
        if cached is None:
            sql, params = self._query._sql(dialect)
            cached = (sql, params, self._query._loader(dialect))
            self._cache[dialect.name] = cached
        sql, params, load = cached
        rows = await engine.fetch(sql, params)
        result: ResultT = self._query._convert(rows, load)  # type: ignore[assignment]
        return result


# -- objects ---------------------------------------------------------------------


class Objects(_Ordered[list[TableT]], Generic[TableT]):
    """Rows as instances of the table class."""

    def __init__(self, table: type[TableT]) -> None:
        self._table = table

    def first(self) -> First[TableT]:
        """The first row, or ``None``."""
        return First(self.limit(1))

    def get(self, condition: Condition) -> First[TableT]:
        """The row matching ``condition`` (the first if several do), or ``None``."""
        return First(self.where(condition).limit(1))

    def get_or_create(
        self, condition: Condition, defaults: dict[str, object] | None = None
    ) -> GetOrCreate[TableT]:
        """The matching row, or a new saved one made from the condition's
        equalities (``Band.name == "x"``) and ``defaults``."""
        return GetOrCreate(self, condition, defaults or {})

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return _select_sql(self, self._table._meta.columns, dialect, False)

    async def _run(self, engine: Engine) -> list[TableT]:
        sql, params = self._sql(engine.dialect)
        rows = await engine.fetch(sql, params)
        table: type[TableT] = self._table  # type: ignore[assignment]
        return _table_load(table, engine.dialect).objects(table, rows)


def _equalities(condition: Condition, table: type[Table[Any]]) -> dict[str, object]:
    """``column = value`` terms of an AND-only condition on ``table``'s own columns."""
    from ._sql import And

    if isinstance(condition, And):
        return {**_equalities(condition.left, table), **_equalities(condition.right, table)}
    if (
        isinstance(condition, Compare)
        and condition.op == "="
        and not condition.column._meta.path
        and condition.column._meta.table is table
        and not isinstance(condition.value, Column)
    ):
        return {condition.column._meta.name: condition.value}
    return {}


class GetOrCreate(Query[TableT]):
    """The first row matching a condition, created if there is none."""

    def __init__(
        self, objects: Objects[TableT], condition: Condition, defaults: dict[str, object]
    ) -> None:
        self._table = objects._table
        self._objects = objects
        self._condition = condition
        self._defaults = defaults

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._objects.where(self._condition).limit(1)._sql(dialect)

    async def _run(self, engine: Engine) -> TableT:
        found = await self._objects.get(self._condition)._run(engine)
        if found is not None:
            return found
        values = {**_equalities(self._condition, self._table), **self._defaults}
        row: TableT = self._table(**values)  # type: ignore[assignment]
        await Save(row)._run(engine)
        return row


# -- writing -----------------------------------------------------------------------


def _insert_columns(table: type[Table[Any]], row: Table[Any]) -> list[Column[Any]]:
    values = row.__dict__
    return [c for c in table._meta.columns if c._meta.name in values]


class Insert(Query[list[TableT]]):
    """``INSERT`` rows; the result is the same instances, primary keys filled in."""

    def __init__(self, table: type[TableT], rows: list[TableT]) -> None:
        self._table = table
        self._rows = self._checked(rows)

    def _checked(self, rows: list[TableT]) -> list[TableT]:
        for row in rows:
            if type(row) is not self._table:
                raise TypeError(
                    f"{self._table.__name__}.insert() takes {self._table.__name__} rows;"
                    f" got {row!r}"
                )
            for column in self._table._meta.columns:
                value = row.__dict__.get(column._meta.name)
                if value is None and column._meta.name in row.__dict__:
                    column._check(None)  # raises for a non-null column
        return rows

    def add(self, *rows: TableT) -> Self:
        """More rows to insert."""
        new = self._copy()
        new._rows = [*self._rows, *self._checked(list(rows))]
        return new

    def _statements(self, dialect: Dialect) -> list[tuple[str, list[object], list[TableT]]]:
        """One statement per group of rows with the same columns (serial keys
        given or not), chunked below the drivers' parameter limits."""
        table = self._table
        pk = table._meta.primary_key
        quote = dialect.quote
        groups: dict[tuple[str, ...], tuple[list[Column[Any]], list[TableT]]] = {}
        for row in self._rows:
            columns = _insert_columns(table, row)
            key = tuple(c._meta.name for c in columns)
            groups.setdefault(key, (columns, []))[1].append(row)
        statements = []
        for columns, rows in groups.values():
            returning = isinstance(pk, Serial) and all(c is not pk for c in columns)
            per_chunk = max(1, _MAX_PARAMS // max(1, len(columns)))
            names = ", ".join(quote(c._meta.db_name) for c in columns)
            for start in range(0, len(rows), per_chunk):
                chunk = rows[start : start + per_chunk]
                c = Compiler(dialect, table)
                tuples = []
                for row in chunk:
                    values = row.__dict__
                    marks = ", ".join(
                        c.param(col._to_db(values[col._meta.name], dialect)) for col in columns
                    )
                    tuples.append(f"({marks})")
                target = quote(table._meta.tablename)
                if columns:
                    sql = f"INSERT INTO {target} ({names}) VALUES {', '.join(tuples)}"
                else:
                    sql = f"INSERT INTO {target} DEFAULT VALUES"
                if returning:
                    sql += f" RETURNING {quote(pk._meta.db_name)}"
                statements.append((sql, c.params, chunk if returning else []))
        return statements

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        statements = self._statements(dialect)
        return (statements[0][0], statements[0][1]) if statements else ("", [])

    async def _run(self, engine: Engine) -> list[TableT]:
        pk_name = self._table._meta.primary_key._meta.name
        statements = self._statements(engine.dialect)
        if len(statements) > 1 and not engine.transaction_exists():
            async with engine.transaction():
                await self._execute(engine, statements, pk_name)
        else:
            await self._execute(engine, statements, pk_name)
        for row in self._rows:
            row.__dict__["_saved"] = True
        return self._rows

    @staticmethod
    async def _execute(
        engine: Engine, statements: list[tuple[str, list[object], list[TableT]]], pk: str
    ) -> None:
        for sql, params, returning_rows in statements:
            if not returning_rows:
                await engine.execute(sql, params)
                continue
            records = await engine.fetch(sql, params)
            # Serial keys are handed out in VALUES order within one statement;
            # sorting makes the match independent of RETURNING's row order.
            keys = sorted(record[0] for record in records)
            for row, key in zip(returning_rows, keys):
                row.__dict__[pk] = key


def _keyed_where(c: Compiler, query: _Filtered[Any]) -> str:
    """The ``WHERE`` of an UPDATE/DELETE; join paths go through a subquery on the key."""
    where = query._where_sql(c)
    if not c.joins:
        return where
    table = query._table
    quote = c.dialect.quote
    pk = f"{quote(table._meta.tablename)}.{quote(table._meta.primary_key._meta.db_name)}"
    joins = c.join_clause()
    return f" WHERE {pk} IN (SELECT {pk} FROM {quote(table._meta.tablename)}{joins}{where})"


def _refuse_unfiltered(query: _Filtered[Any], force: bool, verb: str) -> None:
    if query._where is None and not force:
        raise ValueError(
            f"{verb} without where() would change every row of "
            f"{query._table.__name__}; add where() or pass force=True"
        )


class Update(_Filtered[None]):
    """``UPDATE``; refuses to run without ``where()`` unless forced."""

    def __init__(
        self, table: type[Table[Any]], values: dict[Column[Any], object], *, force: bool
    ) -> None:
        self._table = table
        self._force = force
        if not values:
            raise ValueError("update() needs at least one value")
        checked: dict[Column[Any], object] = {}
        for column, value in values.items():
            if column._meta.path or column._meta.table is not table:
                raise ValueError(f"update() sets {table.__name__}'s own columns; got {column!r}")
            checked[column] = value if isinstance(value, Column) else column._check(value)
        self._values = checked

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        _refuse_unfiltered(self, self._force, "update()")
        c = Compiler(dialect, self._table)
        quote = dialect.quote
        sets = ", ".join(
            f"{quote(col._meta.db_name)} = "
            + (
                c.column(value)
                if isinstance(value, Column)
                else c.param(col._to_db(value, dialect))
            )
            for col, value in self._values.items()
        )
        where = _keyed_where(c, self)
        return f"UPDATE {quote(self._table._meta.tablename)} SET {sets}{where}", c.params

    async def _run(self, engine: Engine) -> None:
        sql, params = self._sql(engine.dialect)
        await engine.execute(sql, params)


class Delete(_Filtered[None]):
    """``DELETE``; refuses to run without ``where()`` unless forced."""

    def __init__(self, table: type[Table[Any]], *, force: bool) -> None:
        self._table = table
        self._force = force

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        _refuse_unfiltered(self, self._force, "delete()")
        c = Compiler(dialect, self._table)
        where = _keyed_where(c, self)
        return f"DELETE FROM {dialect.quote(self._table._meta.tablename)}{where}", c.params

    async def _run(self, engine: Engine) -> None:
        sql, params = self._sql(engine.dialect)
        await engine.execute(sql, params)


class Count(_Filtered[int]):
    """``SELECT COUNT(*)``."""

    def __init__(self, table: type[Table[Any]]) -> None:
        self._table = table

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        c = Compiler(dialect, self._table)
        where = self._where_sql(c)
        table = dialect.quote(self._table._meta.tablename)
        return f"SELECT COUNT(*) FROM {table}{c.join_clause()}{where}", c.params

    async def _run(self, engine: Engine) -> int:
        sql, params = self._sql(engine.dialect)
        rows = await engine.fetch(sql, params)
        return int(rows[0][0])


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
        rows = await engine.fetch(sql, params)
        return bool(rows[0][0])


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


# -- DDL ---------------------------------------------------------------------------


def _column_ddl(column: Column[Any], dialect: Dialect) -> str:
    meta = column._meta
    parts = [dialect.quote(meta.db_name), column._ddl_type(dialect)]
    if meta.primary_key:
        parts.append("PRIMARY KEY")
    else:
        if not meta.null:
            parts.append("NOT NULL")
        if meta.unique:
            parts.append("UNIQUE")
    default = column._ddl_default(dialect)
    if default is not None and not meta.primary_key:
        parts.append(f"DEFAULT {default}")
    sql = " ".join(parts)
    if isinstance(column, ForeignKey):
        sql += column._references_clause(dialect)
    return sql


def create_table_sql(
    table: type[Table[Any]], dialect: Dialect, *, if_not_exists: bool = False
) -> list[str]:
    """``CREATE TABLE`` and ``CREATE INDEX`` statements for ``table``."""
    quote = dialect.quote
    name = table._meta.tablename
    columns = ", ".join(_column_ddl(c, dialect) for c in table._meta.columns)
    guard = "IF NOT EXISTS " if if_not_exists else ""
    statements = [f"CREATE TABLE {guard}{quote(name)} ({columns})"]
    for column in table._meta.columns:
        if column._meta.index and not column._meta.primary_key:
            index = f"{name}_{column._meta.db_name}"
            statements.append(
                f"CREATE INDEX {guard}{quote(index)} ON {quote(name)}"
                f" ({quote(column._meta.db_name)})"
            )
    return statements


class _Script(Query[None]):
    """Several statements run in one transaction."""

    _tables: list[type[Table[Any]]]

    def _statements(self, dialect: Dialect) -> list[str]:
        raise NotImplementedError

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return ";\n".join(self._statements(dialect)), []

    async def _run(self, engine: Engine) -> None:
        statements = self._statements(engine.dialect)
        if engine.transaction_exists():
            for sql in statements:
                await engine.execute(sql)
            return
        async with engine.transaction():
            for sql in statements:
                await engine.execute(sql)


class CreateTable(_Script):
    """``CREATE TABLE`` for one or more tables, in the order given."""

    def __init__(self, tables: list[type[Table[Any]]], *, if_not_exists: bool) -> None:
        if not tables:
            raise ValueError("create_tables() needs at least one table")
        self._table = tables[0]
        self._tables = tables
        self._if_not_exists = if_not_exists

    def _statements(self, dialect: Dialect) -> list[str]:
        return [
            sql
            for table in self._tables
            for sql in create_table_sql(table, dialect, if_not_exists=self._if_not_exists)
        ]


class DropTables(_Script):
    """``DROP TABLE`` for one or more tables, in reverse foreign-key order."""

    def __init__(self, tables: list[type[Table[Any]]], *, if_exists: bool) -> None:
        if not tables:
            raise ValueError("drop_tables() needs at least one table")
        self._table = tables[0]
        self._tables = tables
        self._if_exists = if_exists

    def _statements(self, dialect: Dialect) -> list[str]:
        guard = "IF EXISTS " if self._if_exists else ""
        return [
            f"DROP TABLE {guard}{dialect.quote(t._meta.tablename)}" for t in reversed(self._tables)
        ]


def _pk_condition(row: Table[Any]) -> Condition:
    pk = row._meta.primary_key
    value = row.__dict__.get(pk._meta.name)
    if value is None:
        raise ValueError(f"{row!r} has no primary key value: it was never saved")
    return Compare(pk, "=", value)


class Save(Query[None]):
    """Insert a new row, or update a saved one by primary key."""

    def __init__(self, row: Table[Any]) -> None:
        self._table = type(row)
        self._row = row

    def _query(self) -> Query[Any]:
        row = self._row
        if not row.__dict__.get("_saved"):
            return Insert(self._table, [row])
        values = {
            c: row.__dict__[c._meta.name]
            for c in self._table._meta.columns
            if not c._meta.primary_key and c._meta.name in row.__dict__
        }
        if not values:
            # Only a primary key: nothing to write, but say where it is.
            return Exists(self._table).where(_pk_condition(row))
        return Update(self._table, values, force=False).where(_pk_condition(row))

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._query()._sql(dialect)

    async def _run(self, engine: Engine) -> None:
        await self._query()._run(engine)


class Remove(Query[None]):
    """Delete one row by primary key."""

    def __init__(self, row: Table[Any]) -> None:
        self._table = type(row)
        self._row = row

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return Delete(self._table, force=False).where(_pk_condition(self._row))._sql(dialect)

    async def _run(self, engine: Engine) -> None:
        await Delete(self._table, force=False).where(_pk_condition(self._row))._run(engine)
        self._row.__dict__["_saved"] = False


class Related(Query[R]):
    """The row a foreign key of one row points at."""

    def __init__(self, row: Table[Any], foreign_key: ForeignKey[Any, R]) -> None:
        if foreign_key._meta.path or foreign_key._meta.table is not type(row):
            raise ValueError(
                f"get_related() takes a foreign key of {type(row).__name__};"
                f" got {foreign_key!r}"
            )
        self._table = foreign_key.target()
        self._value = row.__dict__.get(foreign_key._meta.name)
        self._fk = foreign_key

    def _objects(self) -> First[Any]:
        target = self._table
        return target.objects().get(Compare(target._meta.primary_key, "=", self._value))

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._objects()._sql(dialect)

    async def _run(self, engine: Engine) -> R:
        if self._value is None:
            return None  # type: ignore[return-value]  # R includes None for a nullable key
        found = await self._objects()._run(engine)
        return cast(R, found)
