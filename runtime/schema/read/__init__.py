"""The reader: a live database's tables as ``runtime.schema.database`` models them.

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

from ..database import DbSchema, DbTable
from . import postgres, sqlite
from ._common import HISTORY_TABLE, Fetch, Note
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
]

_READERS: Final = {"postgres": postgres.read, "sqlite": sqlite.read}


@dataclass(frozen=True, slots=True)
class Reading:
    """A read of a database: its schema, and the notes on what that leaves out
    (sorted by table, then text)."""

    schema: DbSchema
    notes: tuple[Note, ...] = ()


#: The settings PostgreSQL prints constants by (in ``pg_get_expr``), and the
#: values the PostgreSQL reader parses: the defaults of a server.
_OUTPUT_STYLES: Final = {
    "DateStyle": "ISO",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
}


async def _with_output_styles(
    engine: Engine, wanted: frozenset[str] | None, schema: str
) -> tuple[list[DbTable], list[Note]]:
    """The PostgreSQL read, in a transaction of ``engine``, with the output
    styles the reader parses set for that transaction and then put back as
    they were (a read inside a transaction of the caller leaves its settings
    alone), so that a session or server with other styles reads the same."""
    fetch = engine._fetch_built
    names = list(_OUTPUT_STYLES)
    listed = ", ".join(f"current_setting('{name}')" for name in names)
    (found,) = await fetch(f"SELECT {listed}", ())
    current = dict(zip(names, found, strict=True))
    changed = [n for n in names if not _same_style(n, current[n], _OUTPUT_STYLES[n])]
    await _set(fetch, {name: _OUTPUT_STYLES[name] for name in changed})
    result = await postgres.read(fetch, wanted, schema)
    await _set(fetch, {name: current[name] for name in changed})
    return result


async def _set(fetch: Fetch, settings: dict[str, str]) -> None:
    """``SET LOCAL`` each of ``settings`` (for the transaction)."""
    if settings:
        calls = ", ".join(
            f"set_config(${2 * i + 1}, ${2 * i + 2}, true)" for i in range(len(settings))
        )
        await fetch(f"SELECT {calls}", [part for item in settings.items() for part in item])


def _same_style(name: str, current: str, wanted: str) -> bool:
    if name == "DateStyle":  # ISO output is the same in any field order
        return current.split(",")[0].strip().upper() == wanted
    if name == "extra_float_digits":  # any positive value: the shortest exact output
        return int(current) > 0
    return current == wanted


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
    if dialect == "postgres":
        async with engine.transaction():
            found, notes = await _with_output_styles(engine, wanted, schema)
    else:
        found, notes = await reader(engine._fetch_built, wanted, schema)
    return Reading(
        DbSchema(dialect, tuple(found)),
        tuple(sorted(notes, key=lambda n: (n.table, n.what))),
    )
