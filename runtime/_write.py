"""``INSERT``, ``UPDATE`` and ``DELETE``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, TypeVar

from ._columns import Column, Serial
from ._dialect import Dialect
from ._query import Query, _Filtered
from ._sql import Compiler

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

# Parameters per statement stay below both drivers' limits (32767).
_MAX_PARAMS = 30_000

ResultT = TypeVar("ResultT")
R = TypeVar("R")
C = TypeVar("C")
T1 = TypeVar("T1")
TableT = TypeVar("TableT", bound="Table[Any]")

__all__ = ["Insert", "Update", "Delete"]


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
