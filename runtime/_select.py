"""``SELECT`` queries: rows as dicts, lists, tuples or JSON; counts; raw SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeVar, overload

from ._columns import Column
from ._dialect import Dialect
from ._query import First, Query, RowLoad, _Filtered, _Ordered, _select_sql, _table_load
from ._sql import Compiler

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

ResultT = TypeVar("ResultT")
R = TypeVar("R")
C = TypeVar("C")
T1 = TypeVar("T1")
TableT = TypeVar("TableT", bound="Table[Any]")

__all__ = ["Select", "SelectJSON", "Frozen", "Count", "Exists", "Raw"]

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
