"""The migrations oracle with rows in the tables, on both engines.

Seeded random schemas and edits (tests/schema_edits.py), the tables filled
before the edit's migration runs. Then either

- the migration applies: the database read back is the edited state, and
  every column the migration did not touch (same table and column, renamed
  or not, same type) holds exactly the rows it held; ``backwards`` gives the
  old state back with those rows again; or
- it fails on the rows (a NOT NULL column added to a table with rows, a
  unique over equal values, a foreign key to a table without the row): the
  lint of the file said so beforehand (a "data" finding), and schema, rows
  and history are exactly as before.

``PICCOLO_GEN_MIGRATION_DATA_CASES`` (default 12) sets the number of cases
per engine, ``PICCOLO_GEN_MIGRATION_DATA_SEED`` the first seed.
"""

from __future__ import annotations

import datetime
import decimal
import os
import random
from pathlib import Path
from typing import Any

from schema_edits import random_edits, random_schema
from test_migrations import database_state, history, lowered, make_folder, rows

from runtime._engine import Engine
from runtime.migrations import MigrationError, Schema, Type
from runtime.migrations.lint import lint
from runtime.migrations.runner import Runner
from runtime.schema.compile import runtime_column
from runtime.schema.diff import diff
from runtime.schema.operations import (
    AddColumn,
    AlterColumn,
    CreateTable,
    DropColumn,
    DropTable,
    Operation,
    RenameColumn,
    RenameTable,
)

CASES = int(os.environ.get("PICCOLO_GEN_MIGRATION_DATA_CASES", "12"))
FIRST_SEED = int(os.environ.get("PICCOLO_GEN_MIGRATION_DATA_SEED", "1000"))
ROWS = 2  # a boolean has two distinct values, and a unique one must hold them


def _value(type_: Type, row: int) -> object:
    """A value of ``type_`` for row ``row`` (1-based): distinct per row, and
    within every type a change in tests/schema_edits.py may lead to."""
    kind = type_.kind
    if kind in ("Varchar", "Text", "Char", "Email", "Secret"):
        return f"v{row}"
    if kind in ("SmallInt", "Integer", "BigInt", "Serial", "BigSerial"):
        return row
    if kind in ("Real", "DoublePrecision"):
        return row + 0.5
    if kind == "Numeric":
        return decimal.Decimal(f"{row}.25")
    if kind == "Boolean":
        return row % 2 == 0
    if kind == "Date":
        return datetime.date(2020, 1, row)
    if kind == "Timestamp":
        return datetime.datetime(2020, 1, 1, row)
    raise AssertionError(f"no test value for {kind}")


async def _fill(engine: Engine, state: Schema) -> None:
    """``ROWS`` rows in every table, ids 1..ROWS, each foreign key pointing at
    the row of the same id of its target."""
    p = engine.dialect.placeholder
    for table in state.ordered():
        names = ", ".join(f'"{c.name}"' for c in table.columns)
        marks = ", ".join(p(i + 1) for i in range(len(table.columns)))
        for row in range(1, ROWS + 1):
            values = [
                runtime_column(c.type)._to_db(_value(c.type, row), engine.dialect)
                for c in table.columns
            ]
            await engine.execute(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)


def _names(operations: list[Operation]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Where each old table and column went by renames (old name -> new name)."""
    tables: dict[str, str] = {}
    columns: dict[tuple[str, str], str] = {}
    for op in operations:
        if isinstance(op, RenameTable):
            old = next((o for o, n in tables.items() if n == op.old), op.old)
            tables[old] = op.new
        elif isinstance(op, RenameColumn):
            table = next((o for o, n in tables.items() if n == op.table), op.table)
            old = next((o for (t, o), n in columns.items() if t == table and n == op.old), op.old)
            columns[(table, old)] = op.new
    return tables, columns


def _kept(
    old: Schema, new: Schema, operations: list[Operation]
) -> dict[str, list[tuple[str, str]]]:
    """Per old table that the migration keeps: the (old, new) names of the
    columns it does not touch (not dropped, added or retyped)."""
    tables, columns = _names(operations)
    touched_tables = {op.name for op in operations if isinstance(op, DropTable)}
    touched_tables |= {op.table.name for op in operations if isinstance(op, CreateTable)}
    touched: set[tuple[str, str]] = set()
    for op in operations:
        if isinstance(op, (DropColumn, AddColumn)):
            name = op.name if isinstance(op, DropColumn) else op.column.name
            touched.add((op.table, name))
        elif isinstance(op, AlterColumn) and "type" in op.changes():
            touched.add((op.table, op.name))
    kept: dict[str, list[tuple[str, str]]] = {}
    for table in old:
        new_table = tables.get(table.name, table.name)
        if table.name in touched_tables or new_table in touched_tables or not new.has(new_table):
            continue
        after = new.table(new_table)
        pairs = []
        for column in table.columns:
            new_column = columns.get((table.name, column.name), column.name)
            in_new = after.has_column(new_column)
            if (
                in_new
                and (new_table, new_column) not in touched
                and (
                    table.name,
                    column.name,
                )
                not in touched
            ):
                if after.column(new_column).type == column.type:
                    pairs.append((column.name, new_column))
        kept[table.name] = pairs
    return {t: pairs for t, pairs in kept.items() if pairs}


async def _values(engine: Engine, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    listed = ", ".join(f'"{c}"' for c in columns)
    return [tuple(r) for r in await engine.fetch(f'SELECT {listed} FROM "{table}" ORDER BY "id"')]


async def test_rows_in_untouched_columns_survive_forwards_and_back(
    db: Engine, tmp_path: Path
) -> None:
    applied = failed = 0
    for case in range(FIRST_SEED, FIRST_SEED + CASES):
        rng = random.Random(case)
        old = random_schema(rng)
        new, steps = random_edits(rng, old)
        operations = diff(old, new).operations
        where = f"seed {case}: {steps}"
        folder = tmp_path / f"case{case}"
        migrations = make_folder(folder, diff(Schema(), old).operations, operations)
        runner = Runner(db, migrations)
        await runner.forwards("0001")
        await _fill(db, old)
        kept = _kept(old, new, operations)
        before = {t: await _values(db, t, [o for o, _ in pairs]) for t, pairs in kept.items()}
        whole = {t.name: await rows(db, t.name) for t in old}
        try:
            await runner.forwards()
        except MigrationError as error:
            # Only the rows can make it fail, and the lint must have said so.
            findings = lint(operations, old)
            assert any(f.kind == "data" for f in findings), f"{where}: {error}"
            assert await database_state(db) == lowered(db, old), where
            assert {t.name: await rows(db, t.name) for t in old} == whole, where
            assert [h[0] for h in await history(db)] == [migrations.ids()[0]], where
            failed += 1
        else:
            assert await database_state(db) == lowered(db, new), where
            tables, _ = _names(operations)
            for table, pairs in kept.items():
                after = await _values(db, tables.get(table, table), [n for _, n in pairs])
                assert after == before[table], f"{where}: {table} {pairs}"
            applied += 1
            try:
                await runner.backwards("0001")
            except MigrationError as error:
                # A dropped NOT NULL column without a default, a dropped
                # unique one, or one a check names (its default may not pass
                # it), cannot come back on rows; the lint said so, and
                # nothing changed.
                codes = {f.code for f in lint(operations, old)}
                expected = {"backwards-not-null", "backwards-unique", "backwards-check"}
                assert codes & expected, f"{where}: {error}"
                assert await database_state(db) == lowered(db, new), where
                for table in new.ordered().tables[::-1]:
                    await db.execute(f'DELETE FROM "{table.name}"')
            else:
                assert await database_state(db) == lowered(db, old), where
                for table, pairs in kept.items():
                    again = await _values(db, table, [o for o, _ in pairs])
                    assert again == before[table], f"{where}: {table} {pairs} after backwards"
        await runner.backwards("zero")
        assert await database_state(db) == lowered(db, Schema()), where
    print(f"applied {applied}, failed on rows {failed}")
    # The cases exercise the rows: most migrations apply on them.
    assert applied >= failed, (applied, failed)
