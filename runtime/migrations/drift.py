"""Drift: where a live database differs from the state its migrations describe.

The comparison is made at SQL level (``runtime.schema.database``): the
compiler lowers the replayed state to what its DDL creates, and the reader
reads the database; the two are equal when nothing was changed by hand.
What differs is ``runtime.schema.compare``'s (the comparison
``check_schema()`` makes too); this module words it for the migrations,
where a difference either way is drift. The history table is the runner's,
not the schema's, and is left out.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import groupby

from .._engine_base import Engine
from ..schema.compare import Difference, comparable, compare
from ..schema.compile import compiler_for
from ..schema.database import DbSchema
from ..schema.read import read_schema
from ..schema.state import Schema
from ._base import HISTORY_TABLE

__all__ = ["comparable", "differences", "drift"]


async def drift(engine: Engine, state: Schema) -> list[str]:
    """What differs between the database of ``engine`` and ``state`` (empty: nothing)."""
    read = await read_schema(engine)
    read = replace(read, tables=tuple(t for t in read.tables if t.name != HISTORY_TABLE))
    expected = compiler_for(engine.dialect.name).lower(state)
    return differences(expected, read)


def differences(expected: DbSchema, actual: DbSchema) -> list[str]:
    """One line per difference, naming the table and column: missing tables,
    extra tables, then each table's lines in order, then the enum types and
    the views."""
    found = compare(expected, actual)
    tables = [_line(d) for d in found if d.kind in ("missing_table", "extra_table")]
    rest = [d for d in found if d.kind not in ("missing_table", "extra_table")]
    out = tables
    for _, group in groupby(rest, key=lambda d: d.table):
        out += sorted(_column_lines(list(group)))
    return out


def _column_lines(found: list[Difference]) -> list[str]:
    """A table's lines: one per column for all it differs in, one per index
    or constraint."""
    out: list[str] = []
    fields = [
        d for d in found if d.kind in ("type", "null", "default", "primary_key", "foreign_key")
    ]
    for _, group in groupby(fields, key=lambda d: d.name):
        same = list(group)
        detail = ", ".join(_field(d) for d in same)
        if not same[0].name:
            # The table's own composite key or foreign keys over several columns.
            out += [f"{d.where}: {_field(d)}" for d in same]
            continue
        out.append(f"column {same[0].table}.{same[0].name} differs: {detail}")
    return out + [_line(d) for d in found if d not in fields]


def _field(d: Difference) -> str:
    if d.kind == "type":
        return f"type {d.found} (migrations: {d.expected})"
    return f"{d.found_text} (migrations: {d.expected_text})"


def _line(d: Difference) -> str:
    t, kind = d.table, d.kind
    if kind == "missing_table":
        return f"table {t} is missing from the database"
    if kind == "extra_table":
        return f"table {t} is in the database, but no migration creates it"
    if kind == "missing_column":
        return f"column {t}.{d.name} is missing from the database"
    if kind == "extra_column":
        return f"column {t}.{d.name} is in the database, but no migration adds it"
    if kind == "missing_check":
        return f"check {d.name} of {t} is missing from the database ({d.expected})"
    if kind == "extra_check":
        return f"check {d.name} of {t} is in the database, but no migration adds it ({d.found})"
    if kind == "enum":
        return f"enum type {d.name} is {d.found or 'missing'} in the database, {d.expected or 'none'} in the migrations"
    if kind == "missing_view":
        return f"view {d.name} is missing from the database ({d.expected})"
    if kind == "extra_view":
        return f"view {d.name} is in the database, but no migration creates it ({d.found})"
    if kind == "view":
        return f"view {d.name} differs: {d.found} in the database, {d.expected} in the migrations"
    if kind == "check":
        return f"check {d.name} of {t} differs: {d.found} in the database, {d.expected} in the migrations"
    prefix = f"indexes of {t} differ" if "index" in kind else f"unique constraints of {t} differ"
    if kind.startswith("missing_"):
        return f"{prefix}: {d.expected} is missing from the database"
    if kind.startswith("extra_"):
        return f"{prefix}: {d.found} is in the database, but no migration adds it"
    return f"{prefix}: {d.found} in the database, {d.expected} in the migrations"
