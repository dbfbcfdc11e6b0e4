"""DDL: ``CREATE TABLE`` (with indexes) and ``DROP TABLE``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _naming
from ._columns import Column, ForeignKey
from ._dialect import Dialect
from ._query import Query

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table


__all__ = ["CreateTable", "DropTables", "Index", "create_table_sql"]


@dataclass(frozen=True, slots=True, init=False)
class Index:
    """An index over columns of a table, declared on the class.

    ``class StockItem(Table[...], indexes=(Index("warehouse", "sku"),))``;
    the columns are attribute names. ``name`` defaults to
    ``tablename_column1_column2`` (database column names), shortened with a
    hash past 63 bytes (``runtime._naming``); a given name must fit in 63.
    """

    columns: tuple[str, ...]
    unique: bool
    name: str | None

    def __init__(self, *columns: str, unique: bool = False, name: str | None = None) -> None:
        if not columns:
            raise ValueError("Index() needs at least one column")
        if name is not None and not _naming.fits(name):
            # PostgreSQL would silently truncate it (NAMEDATALEN - 1 bytes).
            raise ValueError(
                f"index name {name!r} is {len(name.encode())} bytes long;"
                " PostgreSQL keeps at most 63"
            )
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "unique", unique)
        object.__setattr__(self, "name", name)


def _db_names(table: type[Table[Any]], columns: tuple[str, ...]) -> list[str]:
    return [table._meta.column_map[c]._meta.db_name for c in columns]


def index_name(table: type[Table[Any]], index: Index) -> str:
    """The database name of ``index`` on ``table`` (see ``runtime._naming``)."""
    return index.name or _naming.index_name(table._meta.tablename, _db_names(table, index.columns))


def unique_name(table: type[Table[Any]], columns: tuple[str, ...]) -> str:
    """The name of a table-level UNIQUE constraint (PostgreSQL's own pattern)."""
    return _naming.unique_name(table._meta.tablename, _db_names(table, columns))


def _named(derived: str, *parts: str) -> list[str]:
    """``CONSTRAINT "derived"``, unless PostgreSQL would choose that name itself.

    PostgreSQL names an unnamed column constraint ``parts`` joined by ``_``
    (``table_column_key``), which is the derived name while it fits: such
    names stay out of the DDL, as they always were. A longer one PostgreSQL
    truncates, and numbers on a clash in the order tables are created, so
    the derived name is given instead.
    """
    return [] if derived == "_".join(parts) else [f"CONSTRAINT {Dialect.quote(derived)}"]


def _column_ddl(column: Column[Any], dialect: Dialect, tablename: str | None = None) -> str:
    """The column's definition in ``CREATE TABLE`` or ``ADD COLUMN`` of table
    ``tablename`` (default: the column's table), which its constraint names
    derive from."""
    meta = column._meta
    if tablename is None:
        assert meta.table is not None, f"{column!r} belongs to no table"
        tablename = meta.table._meta.tablename
    parts = [dialect.quote(meta.db_name), column._ddl_type(dialect)]
    if meta.primary_key:
        parts += [*_named(_naming.primary_key_name(tablename), tablename, "pkey"), "PRIMARY KEY"]
    else:
        if not meta.null:
            parts.append("NOT NULL")
        if meta.unique:
            key = _naming.unique_name(tablename, (meta.db_name,))
            parts += [*_named(key, tablename, meta.db_name, "key"), "UNIQUE"]
    default = column._ddl_default(dialect)
    if default is not None and not meta.primary_key:
        parts.append(f"DEFAULT {default}")
    if isinstance(column, ForeignKey):
        parts += _named(
            _naming.foreign_key_name(tablename, meta.db_name), tablename, meta.db_name, "fkey"
        )
    sql = " ".join(parts)
    if isinstance(column, ForeignKey):
        sql += column._references_clause(dialect)
    return sql


def column_index_sql(tablename: str, column: Column[Any], *, guard: str = "") -> list[str]:
    """The ``CREATE INDEX`` of ``column`` of table ``tablename`` when it is
    declared ``index=True`` (a primary key has its own); ``guard``:
    ``"IF NOT EXISTS "`` or ``""``."""
    meta = column._meta
    if not meta.index or meta.primary_key:
        return []
    quote = Dialect.quote
    index = quote(_naming.index_name(tablename, (meta.db_name,)))
    return [f"CREATE INDEX {guard}{index} ON {quote(tablename)} ({quote(meta.db_name)})"]


def create_table_sql(
    table: type[Table[Any]], dialect: Dialect, *, if_not_exists: bool = False
) -> list[str]:
    """``CREATE TABLE`` and ``CREATE INDEX`` statements for ``table``."""
    quote = dialect.quote
    name = table._meta.tablename
    parts = [_column_ddl(c, dialect) for c in table._meta.columns]
    for group in table._meta.unique:
        listed = ", ".join(quote(c) for c in _db_names(table, group))
        parts.append(f"CONSTRAINT {quote(unique_name(table, group))} UNIQUE ({listed})")
    guard = "IF NOT EXISTS " if if_not_exists else ""
    statements = [f"CREATE TABLE {guard}{quote(name)} ({', '.join(parts)})"]
    for column in table._meta.columns:
        statements += column_index_sql(name, column, guard=guard)
    for declared in table._meta.indexes:
        listed = ", ".join(quote(c) for c in _db_names(table, declared.columns))
        statements.append(
            f"CREATE {'UNIQUE ' if declared.unique else ''}INDEX {guard}"
            f"{quote(index_name(table, declared))} ON {quote(name)} ({listed})"
        )
    return statements


async def run_in_transaction(engine: Engine, statements: list[str]) -> None:
    """Run ``statements`` all or nothing: in the open transaction, else in a new one."""
    if engine.transaction_exists():
        for sql in statements:
            await engine._execute_built(sql)
        return
    async with engine.transaction():
        for sql in statements:
            await engine._execute_built(sql)


class _Script(Query[None]):
    """Several statements run in one transaction."""

    _tables: list[type[Table[Any]]]

    def _statements(self, dialect: Dialect) -> list[str]:
        raise NotImplementedError

    def _sql(self, dialect: Dialect) -> tuple[str, list[object]]:
        return ";\n".join(self._statements(dialect)), []

    async def _run(self, engine: Engine) -> None:
        await run_in_transaction(engine, self._statements(engine.dialect))


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
