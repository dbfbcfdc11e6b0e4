"""Drift: where a live database differs from the state its migrations describe.

The comparison is made at SQL level (``runtime.schema.database``): the
compiler lowers the replayed state to what its DDL creates, and the reader
reads the database; the two are equal when nothing was changed by hand.
The history table is the runner's, not the schema's, and is left out.
"""

from __future__ import annotations

from dataclasses import replace

from .._engine_base import Engine
from ..schema.compile import compiler_for
from ..schema.database import DbSchema, DbTable
from ..schema.read import read_schema
from ..schema.state import Schema
from ._base import HISTORY_TABLE

__all__ = ["comparable", "differences", "drift"]


async def drift(engine: Engine, state: Schema) -> list[str]:
    """What differs between the database of ``engine`` and ``state`` (empty: nothing)."""
    read = await read_schema(engine)
    read = DbSchema(read.dialect, tuple(t for t in read.tables if t.name != HISTORY_TABLE))
    expected = compiler_for(engine.dialect.name).lower(state)
    return differences(comparable(expected), comparable(read))


def comparable(schema: DbSchema) -> DbSchema:
    """``schema`` with what does not tell two databases apart left out: the
    order of a table's columns (a migrated table has its added columns at the
    end, and is the same table; ``state.Table`` compares so too), and the
    ``NOT NULL`` of a primary key (a key is never null; SQLite reports the
    flag as declared, which the DDL leaves off, and PostgreSQL sets it)."""
    return DbSchema(
        schema.dialect,
        tuple(
            replace(
                t,
                columns=tuple(
                    sorted(
                        (replace(c, notnull=True) if c.primary_key else c for c in t.columns),
                        key=lambda c: c.name,
                    )
                ),
            )
            for t in schema.tables
        ),
    )


def differences(expected: DbSchema, actual: DbSchema) -> list[str]:
    """One line per difference, naming the table and column."""
    out: list[str] = []
    want = {t.name: t for t in expected.tables}
    have = {t.name: t for t in actual.tables}
    for name in sorted(want.keys() - have.keys()):
        out.append(f"table {name} is missing from the database")
    for name in sorted(have.keys() - want.keys()):
        out.append(f"table {name} is in the database, but no migration creates it")
    for name in sorted(want.keys() & have.keys()):
        out += _table_differences(want[name], have[name])
    return out


def _table_differences(want: DbTable, have: DbTable) -> list[str]:
    out: list[str] = []
    t = want.name
    want_columns = {c.name: c for c in want.columns}
    have_columns = {c.name: c for c in have.columns}
    for name in want_columns.keys() - have_columns.keys():
        out.append(f"column {t}.{name} is missing from the database")
    for name in have_columns.keys() - want_columns.keys():
        out.append(f"column {t}.{name} is in the database, but no migration adds it")
    for name in want_columns.keys() & have_columns.keys():
        w, h = want_columns[name], have_columns[name]
        if w != h:
            fields = [
                f
                for f in ("type", "notnull", "default", "primary_key", "references")
                if getattr(w, f) != getattr(h, f)
            ]
            detail = ", ".join(
                f"{f} {getattr(h, f)!r} (migrations: {getattr(w, f)!r})" for f in fields
            )
            out.append(f"column {t}.{name} differs: {detail}")
    if want.indexes != have.indexes:
        out.append(
            f"indexes of {t} differ: database {list(have.indexes)}, migrations {list(want.indexes)}"
        )
    if want.unique != have.unique:
        out.append(
            f"unique constraints of {t} differ: database {list(have.unique)}, "
            f"migrations {list(want.unique)}"
        )
    return sorted(out)
