"""Functions over several tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._ddl import CreateTable, DropTables

if TYPE_CHECKING:
    from ._engine import Engine
    from ._table import Table

__all__ = ["create_tables", "drop_tables", "use_engine"]


def create_tables(*tables: type[Table[Any]], if_not_exists: bool = False) -> CreateTable:
    """``CREATE TABLE`` for every table, in the order given (one transaction).

    Generated modules list their tables in foreign-key order as ``TABLES``:
    ``await create_tables(*music.TABLES)``. Foreign keys that form a cycle
    are fine: one to a table later in the list is added after the tables
    (``ALTER TABLE ... ADD CONSTRAINT``) on PostgreSQL, and declared inline
    on SQLite, which resolves a foreign key when a row is written.
    """
    return CreateTable(list(tables), if_not_exists=if_not_exists)


def drop_tables(*tables: type[Table[Any]], if_exists: bool = False) -> DropTables:
    """``DROP TABLE`` for every table, in reverse order (one transaction).

    Give the tables in creation order (``TABLES``): a foreign key to a table
    later in the list closes a cycle, and is dropped first on PostgreSQL
    (SQLite drops the tables of a cycle in an order its foreign key actions
    allow, checking rows at the commit)."""
    return DropTables(list(tables), if_exists=if_exists)


def use_engine(engine: Engine | None, *tables: type[Table[Any]]) -> None:
    """Bind ``tables`` to ``engine`` (``None``: back to the engine finder).

    Queries on a bound table run on its engine instead of the one named by
    ``piccolo_conf.py``; ``run(engine=...)`` still overrides per query.
    """
    for table in tables:
        table._meta.db = engine
