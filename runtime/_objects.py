"""Queries that give table instances, and the queries of one instance."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, cast

# ``_write`` as a module: it may still be loading when this one is (see the
# end of ``_table``).
from . import _write
from ._columns import Column, ForeignKey
from ._composite import CompositeForeignKey
from ._dialect import Dialect
from ._query import First, Query, _Ordered, _select_sql, _table_load
from ._roles import TableRole
from ._select import Batch, Exists, LockStrength, Select, _check_size, _Lock
from ._sql import And, Compare, Condition

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

ResultT = TypeVar("ResultT")
R = TypeVar("R")
C = TypeVar("C")
T1 = TypeVar("T1")
TableT = TypeVar("TableT", bound="Table[Any]")

__all__ = ["Objects", "GetOrCreate", "Create", "Refresh", "Save", "Remove", "Related"]


class Objects(_Ordered[list[TableT]], Generic[TableT]):
    """Rows as instances of the table class."""

    _lock: _Lock | None = None
    #: Foreign keys whose related rows are loaded with a join (``Band.objects(Band.manager)``).
    _prefetch: tuple[ForeignKey[Any, Any], ...] = ()

    def __init__(self, table: type[TableT], prefetch: Sequence[ForeignKey[Any, Any]] = ()) -> None:
        self._table = table
        if prefetch:
            self._prefetch = tuple(_checked_prefetch(table, fk) for fk in prefetch)

    if not TYPE_CHECKING:
        # Generated ``<Table>Objects`` classes declare it with typed keywords.

        def create(self, **values):
            """Make a row from keyword values and save it; the result is the row."""
            return Create(self, self._table(**values))

    def first(self) -> First[TableT]:
        """The first row, or ``None``."""
        return First(self.limit(1))

    def get(self, condition: Condition) -> First[TableT]:
        """The row matching ``condition`` (the first if several do), or ``None``."""
        return First(self.where(condition).limit(1))

    def get_or_create(
        self, condition: Condition, defaults: Mapping[Column[Any] | str, object] | None = None
    ) -> GetOrCreate[TableT]:
        """The matching row, or a new saved one made from the condition's
        equalities (``Band.name == "x"``) and ``defaults`` (``{Band.popularity: 5}``
        or ``{"popularity": 5}``)."""
        if not isinstance(condition, Condition):
            raise TypeError(f"get_or_create() takes a condition; got {condition!r}")
        values: dict[str, object] = {}
        for key, value in (defaults or {}).items():
            column = self._table._resolve(key)
            if column._meta.path or column._meta.table is not self._table:
                raise ValueError(f"get_or_create() defaults are {self._table.__name__}'s columns")
            values[column._meta.name] = column._check(value)
        return GetOrCreate(self, condition, values)

    def lock_rows(
        self,
        lock_strength: LockStrength = "UPDATE",
        *,
        nowait: bool = False,
        skip_locked: bool = False,
        of: Sequence[type[Table[Any]]] = (),
    ) -> Self:
        """Lock the rows loaded (``FOR UPDATE`` ...; PostgreSQL only): see
        ``Select.lock_rows``."""
        new = self._copy()
        new._lock = _Lock.make(self._table, lock_strength, nowait, skip_locked, of)
        return new

    def batch(
        self, batch_size: int = 100, *, engine: Engine | None = None, node: str | None = None
    ) -> Batch[TableT]:
        """The instances in lists of ``batch_size``: ``async for bands in q.batch(...)``
        (see ``Select.batch``)."""
        return Batch(self, _check_size(batch_size), engine, node)

    def _read_only(self) -> bool:
        return self._lock is None  # FOR UPDATE locks rows on the primary

    def _batch_converter(self, dialect: Dialect) -> Callable[[list[Sequence[Any]]], list[Any]]:
        return self._loader(dialect)

    def _columns(self) -> list[Column[Any]]:
        columns = list(self._table._meta.columns)
        for fk in self._prefetch:
            columns += [getattr(fk, c._meta.name) for c in fk.target()._meta.columns]
        return columns

    def _loader(self, dialect: Dialect) -> Callable[[Sequence[Sequence[Any]]], list[TableT]]:
        """Driver rows -> instances; prefetched rows go into their foreign key's attribute."""
        table: type[TableT] = self._table  # type: ignore[assignment]
        load = _table_load(table, dialect)
        if not self._prefetch:
            return lambda rows: load.objects(table, rows)
        parts = []
        start = len(table._meta.columns)
        for fk in self._prefetch:
            target = fk.target()
            columns = target._meta.columns
            key = start + columns.index(fk._target_key())
            end = start + len(columns)
            parts.append((fk._meta.name, target, _table_load(target, dialect), start, key))
            start = end

        def convert(rows: Sequence[Sequence[Any]]) -> list[TableT]:
            # Each loader reads its own positions of the wide rows: no copies.
            result = load.objects_at(table, rows, 0)
            for name, target, target_load, begin, key in parts:
                related = target_load.objects_at(target, rows, begin)
                for obj, other, row in zip(result, related, rows):
                    # A null key (or a LEFT JOIN that found nothing) reads as None.
                    obj.__dict__[name] = other if row[key] is not None else None
            return result

        return convert

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        if self._lock is not None:
            # The same statement as a select of every column, which knows locks.
            select = Select[Any, Any](self._table, self._columns() if self._prefetch else None)
            for name in ("_where", "_order", "_limit", "_offset", "_lock"):
                setattr(select, name, getattr(self, name))
            return select._sql(dialect)
        table = self._table
        refs: list[object] = [table, *self._prefetch]
        head = (Objects, id(table), *map(id, self._prefetch))
        return _select_sql(self, self._columns, dialect, head, refs)

    async def _run(self, engine: Engine) -> list[TableT]:
        sql, params = self._sql(engine.dialect)
        rows = await engine._fetch_built(sql, params)
        return self._loader(engine.dialect)(rows)


def _checked_prefetch(table: type[Table[Any]], fk: object) -> ForeignKey[Any, Any]:
    if not isinstance(fk, ForeignKey) or fk._meta.path or fk._meta.table is not table:
        raise ValueError(
            f"objects() prefetches foreign keys of {table.__name__}"
            f" (such as {table.__name__}.<key>); got {fk!r}"
        )
    return fk


def _equalities(condition: Condition, table: type[Table[Any]]) -> dict[str, object]:
    """``column = value`` terms of an AND-only condition on ``table``'s own columns."""
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
        # Concurrent callers may all find no row and all insert. ON CONFLICT
        # DO NOTHING lets the losers of that race go on without an error: on
        # PostgreSQL a failed INSERT would abort the caller's transaction (a
        # savepoint would be needed), and its INSERT waits for the winner's
        # transaction, so the row is committed, and visible to a new read
        # (READ COMMITTED; REPEATABLE READ raises a serialization failure).
        create = Create(self._objects, row)
        insert = _write.Insert(type(row), [row])
        if await insert.on_conflict()._run(engine):
            return await create._loaded(engine)
        found = await self._objects.get(self._condition)._run(engine)
        if found is not None:
            return found
        # Nothing conflicts with the condition's row, so the conflict is on
        # another unique column: insert plainly, raising the database's
        # UniqueViolation (unless that row is gone meanwhile).
        return await create._run(engine)


class Create(Query[TableT]):
    """Save a new row; the result is the row (with its prefetched rows, if the
    ``objects()`` query it came from prefetches any)."""

    def __init__(self, objects: Objects[TableT], row: TableT) -> None:
        self._table = objects._table
        self._objects = objects
        self._row = row

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return Save(self._row)._sql(dialect)

    async def _run(self, engine: Engine) -> TableT:
        await Save(self._row)._run(engine)
        return await self._loaded(engine)

    async def _loaded(self, engine: Engine) -> TableT:
        """The saved row, with its prefetched rows loaded."""
        row = self._row
        if not self._objects._prefetch:
            return row
        # The related rows are loaded as objects(...) would have loaded them.
        loaded = (
            await Objects(self._table, self._objects._prefetch).get(_pk_condition(row))._run(engine)
        )
        return cast(TableT, loaded) if loaded is not None else row


class Refresh(Query[TableT]):
    """Reload a saved row's values (all, or ``columns``) from the database."""

    def __init__(self, row: TableT, columns: Sequence[Column[Any]] | None) -> None:
        table = type(row)
        self._table = table
        self._row = row
        self._condition = _pk_condition(row)
        names = [c._meta.name for c in table._meta.columns]
        if columns is not None:
            names = []
            for column in columns:
                if column._meta.path or column._meta.table is not table:
                    raise ValueError(
                        f"refresh() takes {table.__name__}'s own columns; got {column!r}"
                    )
                names.append(column._meta.name)
        self._names = names
        # Related rows loaded by a prefetch are reloaded too, in the same query.
        self._prefetch = [
            fk
            for fk in table._meta.foreign_keys
            if fk._meta.name in names and isinstance(row.__dict__.get(fk._meta.name), TableRole)
        ]

    def _objects(self) -> Query[TableT | None]:
        table: type[TableT] = type(self._row)
        return Objects(table, self._prefetch).get(self._condition)

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._objects()._sql(dialect)

    async def _run(self, engine: Engine) -> TableT:
        fresh = await self._objects()._run(engine)
        if fresh is None:
            raise ValueError(f"{self._row!r} no longer exists in the database")
        values = self._row.__dict__
        for name in self._names:
            values[name] = fresh.__dict__[name]
        values["_saved"] = True
        return self._row


def reverse(
    row: Table[Any], table: type[TableT], foreign_key: ForeignKey[Any, Any] | None
) -> Objects[TableT]:
    """``table``'s rows whose foreign key points at ``row``."""
    here = type(row)
    keys = [
        fk
        for fk in table._meta.foreign_keys
        if fk.target() is here and (foreign_key is None or fk is foreign_key)
    ]
    if foreign_key is not None and not keys:
        raise ValueError(
            f"get_reverse() takes a foreign key of {table.__name__} to {here.__name__};"
            f" got {foreign_key!r}"
        )
    if len(keys) != 1:
        found = ", ".join(f"{table.__name__}.{fk._meta.name}" for fk in keys) or "none"
        raise ValueError(
            f"get_reverse({table.__name__}) needs exactly one foreign key of"
            f" {table.__name__} to {here.__name__} (found {found}); pass one"
        )
    # The value the key holds: the primary key, or its unique column (``to``).
    held = keys[0]._target_key()
    pk = row.__dict__.get(held._meta.name)
    if pk is None:
        what = "primary key" if held._meta.primary_key else held._meta.name
        raise ValueError(f"{row!r} has no {what} value: it was never saved")
    return Objects(table).where(Compare(keys[0], "=", pk))


def _pk_condition(row: Table[Any]) -> Condition:
    """``key = value`` of ``row``'s primary key: each column of a composite key, ANDed."""
    meta = row._meta
    pk = meta.primary_key
    value = row.__dict__.get(pk._meta.name)
    if value is None:
        raise ValueError(f"{row!r} has no primary key value: it was never saved")
    condition: Condition = Compare(pk, "=", value)
    for column in meta.key[1:]:
        value = row.__dict__.get(column._meta.name)
        if value is None:
            raise ValueError(f"{row!r} has no primary key value: it was never saved")
        condition = And(condition, Compare(column, "=", value))
    return condition


class Save(Query[None]):
    """Insert a new row, or update a saved one by primary key."""

    def __init__(self, row: Table[Any]) -> None:
        self._table = type(row)
        self._row = row

    def _query(self) -> Query[Any]:
        row = self._row
        if not row.__dict__.get("_saved"):
            return _write.Insert(self._table, [row])
        key = self._table._meta.key
        values = {
            c: row.__dict__[c._meta.name]
            for c in self._table._meta.columns
            if all(c is not k for k in key) and c._meta.name in row.__dict__
            # The password of a user table: written by update_password()
            # alone, so a row loaded before it cannot put the old hash back.
            and c._update_refusal is None
        }
        if not values:
            # Only a primary key: nothing to write, but say where it is.
            return Exists(self._table).where(_pk_condition(row))
        return _write.Update(self._table, values, force=False).where(_pk_condition(row))

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
        return _write.Delete(self._table, force=False).where(_pk_condition(self._row))._sql(dialect)

    async def _run(self, engine: Engine) -> None:
        await _write.Delete(self._table, force=False).where(_pk_condition(self._row))._run(engine)
        self._row.__dict__["_saved"] = False


class Related(Query[R]):
    """The row a foreign key of one row points at."""

    def __init__(
        self, row: Table[Any], foreign_key: ForeignKey[Any, R] | CompositeForeignKey[R]
    ) -> None:
        if isinstance(foreign_key, CompositeForeignKey):
            if foreign_key.owner is not type(row):
                raise ValueError(
                    f"get_related() takes a foreign key of {type(row).__name__};"
                    f" got {foreign_key!r}"
                )
            self._table = foreign_key.target()
            values = tuple(row.__dict__.get(c._meta.name) for c in foreign_key.columns())
            self._value: Any = None if None in values else values
            self._fk: ForeignKey[Any, R] | CompositeForeignKey[R] = foreign_key
            return
        if foreign_key._meta.path or foreign_key._meta.table is not type(row):
            raise ValueError(
                f"get_related() takes a foreign key of {type(row).__name__};"
                f" got {foreign_key!r}"
            )
        self._table = foreign_key.target()
        value = row.__dict__.get(foreign_key._meta.name)
        # A prefetched row stands for its key (the query reloads it).
        self._value = foreign_key._check(value) if isinstance(value, TableRole) else value
        self._fk = foreign_key

    def _objects(self) -> First[Any]:
        target = self._table
        fk = self._fk
        if isinstance(fk, CompositeForeignKey):
            pairs = list(zip(fk.target_columns(), self._value or ()))
            condition: Condition = Compare(pairs[0][0], "=", pairs[0][1])
            for column, value in pairs[1:]:
                condition = And(condition, Compare(column, "=", value))
            return target.objects().get(condition)
        return target.objects().get(Compare(fk._target_key(), "=", self._value))

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return self._objects()._sql(dialect)

    async def _run(self, engine: Engine) -> R:
        if self._value is None:
            return None  # type: ignore[return-value]  # R includes None for a nullable key
        found = await self._objects()._run(engine)
        return cast(R, found)

    def _read_only(self) -> bool:
        return True
