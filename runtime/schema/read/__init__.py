"""The reader: a live database's tables and views as ``runtime.schema.database`` models them.

``await read_schema(engine)`` gives the ``DbSchema`` of the database, in the
spelling our DDL writes (see ``runtime.schema.database``), so that it
compares equal to what the DDL compiler lowers a state to when the database
is what the state says. The catalog is read in a few statements, one per
kind of object (columns, constraints, indexes), never one per table: a
database of hundreds of tables reads as fast as one of a few.

A database can hold more than the model can (a foreign key over two
columns, a check constraint, a partial index, an identity column). The
reader never fails on such things; it leaves them out and says so:
``read_schema_notes`` returns the schema with one ``Note`` per thing left
out, for the commands that must tell the user (``introspect``, drift).
What the model holds is always read whole: a note never hides a column or
a constraint that the model could have held.

``read_table_state`` reads one table as a schema state (``state.Table``),
the table ``alter()`` compiles its steps against (see ``_state``).

The history table of the migrations (``HISTORY_TABLE``) is no table of the
schema and is skipped unless named in ``tables``; SQLite's own tables
(``sqlite_%``) always are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ..database import DbSchema
from . import postgres, sqlite
from ._common import HISTORY_TABLE, Note
from ._state import TableState, TableStateError, read_table_state

if TYPE_CHECKING:
    from ..._engine_base import Engine

__all__ = [
    "HISTORY_TABLE",
    "Note",
    "Reading",
    "TableState",
    "TableStateError",
    "read_schema",
    "read_schema_notes",
    "read_table_state",
    "table_exists",
]

#: Each dialect's reader of an engine's database, by dialect name.
_READERS: Final = {"postgres": postgres.read_engine, "sqlite": sqlite.read_engine}
_EXISTS: Final = {"postgres": postgres.table_exists, "sqlite": sqlite.table_exists}
#: The readers of the enum types a database's columns have (SQLite has none).
_ENUM_READERS: Final = {"postgres": postgres.read_enums}
#: The readers of a database's views.
_VIEW_READERS: Final = {"postgres": postgres.read_views, "sqlite": sqlite.read_views}


@dataclass(frozen=True, slots=True)
class Reading:
    """A read of a database: its schema, and the notes on what that leaves out
    (sorted by table, then text)."""

    schema: DbSchema
    notes: tuple[Note, ...] = ()


async def read_schema(
    engine: Engine, *, tables: Iterable[str] | None = None, schema: str = "public"
) -> DbSchema:
    """The tables of the database behind ``engine``, as our DDL would have written them.

    ``tables``: read only the tables of these names (those that exist; a
    name the database lacks is simply not in the result, which is what a
    comparison with a state should see). ``schema``: the PostgreSQL schema
    to read; on SQLite ``"public"`` means the main database and another name
    an attached one.
    """
    return (await read_schema_notes(engine, tables=tables, schema=schema)).schema


async def read_schema_notes(
    engine: Engine, *, tables: Iterable[str] | None = None, schema: str = "public"
) -> Reading:
    """``read_schema``, with notes on what the database holds that the model cannot."""
    if isinstance(tables, str):
        raise TypeError(f"tables must be a collection of names, not the string {tables!r}")
    wanted = None if tables is None else frozenset(tables)
    dialect = engine.dialect.name
    reader = _READERS.get(dialect)
    if reader is None:
        raise ValueError(f"cannot read the schema of a {dialect} database")
    found, notes = await reader(engine, wanted, schema)
    enum_reader = _ENUM_READERS.get(dialect)
    enums = () if enum_reader is None else tuple(await enum_reader(engine, wanted, schema))
    views, view_notes = await _VIEW_READERS[dialect](engine, wanted, schema)
    notes += view_notes
    return Reading(
        DbSchema(dialect, tuple(found), enums, tuple(views)),
        tuple(sorted(notes, key=lambda n: (n.table, n.what))),
    )


async def table_exists(engine: Engine, name: str) -> bool:
    """Whether the database behind ``engine`` has a table ``name`` (on
    PostgreSQL, in a schema of its search path)."""
    return await _EXISTS[engine.dialect.name](engine._fetch_built, name)
