"""One live table as a schema state (``state.Table``), for ``alter()``.

``alter()`` compiles its steps against the table as the database has it
now, so that what earlier alters did is kept. This is the reader's
``DbTable`` taken back up to the state the compiler works on: each SQL type
to the state type whose DDL writes it, derived index and constraint names
to column flags, and defaults kept as the SQL text the database holds
(``SQLDefault``), which the compiler writes back as it is.

What the state cannot hold is told, not guessed: a column type no state
type writes is a ``TableStateError``
(the table cannot be compiled against); the reader's notes come back with
the state, and indexes the state would flatten (a partial index read as a
plain one) are left out of it, so that a SQLite rebuild recreates them from
their own SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final

from ... import _naming
from ..._dialect import POSTGRES, SQLITE, Dialect
from ..compile import SQLDefault, compiler_for
from ..database import DbColumn, DbTable
from ..state import (
    KINDS,
    Action,
    Check,
    Column,
    CompositeForeignKey,
    ForeignKey,
    Index,
    Table,
    Type,
    Unique,
)
from . import postgres, sqlite
from ._common import Fetch, Note

__all__ = ["TableState", "TableStateError", "read_table_state", "table_state"]


class TableStateError(ValueError):
    """A live table holds what a schema state cannot (the message says what)."""


@dataclass(frozen=True, slots=True)
class TableState:
    """A table's state as read, and the reader's notes on what it leaves out."""

    table: Table
    notes: tuple[Note, ...] = ()


_ACTIONS: Final[dict[str, Action]] = {
    "CASCADE": "cascade",
    "RESTRICT": "restrict",
    "NO ACTION": "no_action",
    "SET NULL": "set_null",
    "SET DEFAULT": "set_default",
}

#: Types with parameters, as our DDL writes them (``VARCHAR(50)``, ``NUMERIC(5, 2)``).
_SIZED: Final = re.compile(r"(VARCHAR|CHAR)\((\d+)\)|NUMERIC\((\d+), (\d+)\)")

#: State types whose SQL depends on parameters, or that no reverse lookup
#: should land on (another state type writes the same SQL and is the one meant).
_NOT_PLAIN: Final = frozenset({"Array", "Varchar", "Char", "Email", "Secret", "Enum"})


@cache
def _plain_types(dialect: Dialect) -> dict[str, str]:
    """SQL type -> the state type whose DDL writes it, for the types without
    parameters: this dialect's first (``INTEGER`` is ``Integer``, not
    ``Serial``), then the other dialect's (SQLite declares a key to a
    ``BIGSERIAL`` ``BIGINT``)."""
    found: dict[str, str] = {}
    for each in (dialect, *(other for other in (POSTGRES, SQLITE) if other is not dialect)):
        compiler = compiler_for(each)
        for kind in sorted(KINDS - _NOT_PLAIN, key=_kind_order):
            found.setdefault(compiler.type_sql(Column("c", Type(kind))), kind)
    return found


def _kind_order(kind: str) -> tuple[int, str]:
    # The plain types first where several write one SQL type.
    preferred = ("Text", "Integer", "BigInt", "SmallInt", "Real", "DoublePrecision")
    return (preferred.index(kind) if kind in preferred else len(preferred), kind)


def _type_of(sql: str, dialect: Dialect, table: str, column: str) -> Type:
    if sql.endswith("[]"):
        return Type("Array", element=_type_of(sql[:-2], dialect, table, column))
    sized = _SIZED.fullmatch(sql)
    if sized is not None:
        kind, length, precision, scale = sized.groups()
        if kind is not None:
            return Type("Varchar" if kind == "VARCHAR" else "Char", length=int(length))
        return Type("Numeric", digits=(int(precision), int(scale)))
    kind = _plain_types(dialect).get(sql)
    if kind is None and sql.startswith('"') and sql.endswith('"') and dialect.native_enums:
        # The PostgreSQL reader spells an enum type by its quoted name.
        return Type("Enum", enum=sql[1:-1].replace('""', '"'))
    if kind is None:
        raise TableStateError(
            f"column {table}.{column} has the type {sql!r}, which no column type of"
            " the schema writes"
        )
    return Type(kind)


def _column(
    table: str, db: DbColumn, dialect: Dialect, unique: set[str], indexed: set[str]
) -> Column:
    ref = db.references
    return Column(
        db.name,
        _type_of(db.type, dialect, table, db.name),
        null=not db.notnull and not db.primary_key,
        default=None if db.default is None or db.primary_key else SQLDefault(db.default),
        primary_key=db.primary_key,
        unique=db.name in unique and not db.primary_key,
        index=db.name in indexed,
        references=(
            None
            if ref is None
            else ForeignKey(
                ref.table,
                ref.column,
                on_delete=_ACTIONS[ref.on_delete],
                on_update=_ACTIONS[ref.on_update],
                deferrable=ref.deferrable,
                initially_deferred=ref.initially_deferred,
            )
        ),
    )


def table_state(db: DbTable, dialect: Dialect, notes: tuple[Note, ...] = ()) -> Table:
    """The state of the read table ``db``; ``notes``: the reader's notes on it
    (the indexes they name stay out of the state)."""
    name = db.name
    flattened = {note.index for note in notes if note.index is not None}
    unique_columns: set[str] = set()
    unique: list[Unique] = []
    for group in db.unique:
        if len(group.columns) == 1:
            unique_columns.add(group.columns[0])
        else:
            unique.append(
                Unique(group.name or _naming.unique_name(name, group.columns), group.columns)
            )
    index_columns: set[str] = set()
    indexes: list[Index] = []
    for index in db.indexes:
        if index.name in flattened:
            continue
        plain = len(index.columns) == 1 and not index.unique
        if plain and index.name == _naming.index_name(name, index.columns):
            index_columns.add(index.columns[0])
        else:
            indexes.append(Index(index.name, index.columns, unique=index.unique))
    columns = tuple(_column(name, c, dialect, unique_columns, index_columns) for c in db.columns)
    checks = tuple(Check(c.name, c.sql) for c in db.checks)
    foreign_keys = tuple(
        CompositeForeignKey(
            fk.name, fk.columns, fk.table, fk.to, _ACTIONS[fk.on_delete], _ACTIONS[fk.on_update]
        )
        for fk in db.foreign_keys
    )
    return Table(
        name,
        columns,
        tuple(indexes),
        tuple(unique),
        checks,
        composite_key=db.composite_key,
        foreign_keys=foreign_keys,
    )


_READERS: Final = {"postgres": postgres.read, "sqlite": sqlite.read}


async def read_table_state(
    fetch: Fetch, dialect: Dialect, name: str, *, schema: str = "public"
) -> TableState | None:
    """The state of table ``name`` (``None``: the database has no such table).

    ``fetch`` runs a statement with parameters and gives its rows (an
    engine's, or a DDL session's connection's ``fetch``, to read inside the
    session's transaction).
    """
    found, notes = await _READERS[dialect.name](fetch, frozenset({name}), schema)
    if not found:
        return None
    (db,) = found
    kept = tuple(sorted(notes, key=lambda n: n.what))
    return TableState(table_state(db, dialect, kept), kept)
