"""DDL: ``CREATE TABLE`` (with indexes) and ``DROP TABLE`` of table classes,
and ``CREATE VIEW`` / ``DROP VIEW`` of view classes (``runtime.View``).

The SQL comes from the dialect's DDL compiler (``runtime.schema.compile``),
from the class's schema state: ``create_tables()``, ``alter()`` and the
migrations write a table the same way. Views are created after every table
given (in the order given: a view may read the views before it) and dropped
before them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _naming
from ._dialect import Dialect
from ._query import Query
from .schema.compile import compiler_for
from .schema.state import enums_of, is_view, table_of, view_of

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table


__all__ = ["Check", "CreateTable", "DropTables", "Index", "create_table_sql"]


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


@dataclass(frozen=True, slots=True)
class Check:
    """A check constraint, declared on the class.

    ``class Ticket(Table[...], checks=(Check("positive_price", "price >= 0"),))``.
    ``name`` is the constraint's name in the database, as given (at most 63
    bytes); ``sql`` an SQL expression over the table's database column names,
    which the database evaluates for every row written (a row for which it
    is false is refused with ``CheckViolation``; NULL passes, as in SQL).
    """

    name: str
    sql: str

    def __post_init__(self) -> None:
        if not self.name or not _naming.fits(self.name):
            raise ValueError(
                f"check name {self.name!r} must be 1 to 63 bytes long (PostgreSQL keeps at most 63)"
            )
        if not self.sql.strip():
            raise ValueError(f"check {self.name!r} has an empty expression")


def create_table_sql(
    table: type[Table[Any]], dialect: Dialect, *, if_not_exists: bool = False
) -> list[str]:
    """``CREATE TABLE`` and ``CREATE INDEX`` statements for ``table``: its
    state (``runtime.schema.state``) through the dialect's DDL compiler."""
    values = {e.name: e.values for e in enums_of([table])}
    return compiler_for(dialect).create_table(
        table_of(table), if_not_exists=if_not_exists, enums=values
    )


def create_enums_sql(
    tables: list[type[Table[Any]]], dialect: Dialect, *, if_not_exists: bool = False
) -> list[str]:
    """``CREATE TYPE`` of the native enum types the columns of ``tables`` use
    (PostgreSQL; none on SQLite). ``if_not_exists``: a type there already is
    left as it is."""
    statements = []
    for enum_type in enums_of(tables):
        for sql in compiler_for(dialect).create_enum(enum_type):
            if if_not_exists:
                # CREATE TYPE has no IF NOT EXISTS.
                sql = f"DO $$BEGIN {sql}; EXCEPTION WHEN duplicate_object THEN NULL; END$$"
            statements.append(sql)
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
    """``CREATE TABLE`` for one or more tables, in the order given, then
    ``CREATE VIEW`` for the views among them."""

    def __init__(self, tables: list[type[Table[Any]]], *, if_not_exists: bool) -> None:
        if not tables:
            raise ValueError("create_tables() needs at least one table")
        self._table = tables[0]
        self._tables = tables
        self._if_not_exists = if_not_exists

    def _statements(self, dialect: Dialect) -> list[str]:
        # The compiler adds the foreign keys that close a cycle after the tables.
        compiler = compiler_for(dialect)
        tables = self._tables
        return [
            *create_enums_sql(tables, dialect, if_not_exists=self._if_not_exists),
            *compiler.create_tables(
                [table_of(t) for t in tables if not is_view(t)],
                if_not_exists=self._if_not_exists,
                enums={e.name: e.values for e in enums_of(tables)},
            ),
            *(
                sql
                for t in tables
                if is_view(t)
                for sql in compiler.create_view(view_of(t), if_not_exists=self._if_not_exists)
            ),
        ]


class DropTables(_Script):
    """``DROP TABLE`` for one or more tables, in reverse foreign-key order,
    after ``DROP VIEW`` for the views among them (in reverse order)."""

    def __init__(self, tables: list[type[Table[Any]]], *, if_exists: bool) -> None:
        if not tables:
            raise ValueError("drop_tables() needs at least one table")
        self._table = tables[0]
        self._tables = tables
        self._if_exists = if_exists

    def _statements(self, dialect: Dialect) -> list[str]:
        compiler = compiler_for(dialect)
        views = [view_of(t) for t in reversed(self._tables) if is_view(t)]
        statements = [compiler.drop_view(v, if_exists=self._if_exists) for v in views]
        # In reverse of the given (creation) order; a cycle is cut first.
        tables = [table_of(t) for t in self._tables if not is_view(t)]
        if tables:
            statements += compiler.drop_tables(tables, if_exists=self._if_exists)
        # The enum types of the tables go too, unless a table left has one.
        for enum_type in enums_of(self._tables):
            statements += compiler.drop_unused_enum(enum_type.name)
        return statements
