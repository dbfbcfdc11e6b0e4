"""Queries that give table instances, and the queries of one instance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._columns import Column, ForeignKey
from ._dialect import Dialect
from ._query import First, Query, _Ordered, _select_sql, _table_load
from ._select import Exists
from ._sql import Compare, Condition
from ._write import Delete, Insert, Update

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

ResultT = TypeVar("ResultT")
R = TypeVar("R")
C = TypeVar("C")
T1 = TypeVar("T1")
TableT = TypeVar("TableT", bound="Table[Any]")

__all__ = ["Objects", "GetOrCreate", "Save", "Remove", "Related"]


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
