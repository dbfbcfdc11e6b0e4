"""Any identifier is a table or column name: spaces, quotes, backslashes, case,
non-ASCII letters, SQL keywords, on both engines.

Existing databases have such names (``"Invoice Line"``, ``"Order Details"``,
SQLite's PascalCase); the language keeps them in ``tablename`` and
``db_column_name``, and every statement quotes them. The oracles: queries
give the rows raw SQL gives; the database read back equals the tables' state
lowered by the DDL compiler, after ``create_tables`` and after each migration
operation and its inverse; ``introspect`` writes the names back as they are,
and the file it writes builds a module whose tables have exactly those names.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator.introspect import introspect
from generator.state import schema_state
from runtime import (
    Check,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    Varchar,
    create_tables,
    use_engine,
)
from runtime._engine import Engine
from runtime.schema import operations as ops
from runtime.schema import state
from runtime.schema.compile import compiler_for, run_steps
from runtime.schema.read import read_schema
from runtime.schema.session import ddl_session

ROOT = Path(__file__).resolve().parent.parent

LINE = "Invoice Line"
QUOTED = 'Odd "Name"'
BACKSLASH = "unit\\price"
GERMAN = "Größe"
KEYWORD = "select"
SPACED = "line no"
NOTE = "Note's"
LINE_ID = f"{LINE} id"
BODY = 'say "hi" \\ there'


class Line(
    Table[dict[str, Any]],
    tablename=LINE,
    indexes=(Index("quoted", "size"),),
    unique=(("no", "size"),),
    checks=(Check("price is positive", f'"{BACKSLASH}" >= 0'),),
):
    no = Integer(db_column_name=SPACED)
    quoted = Varchar(length=20, db_column_name=QUOTED, index=True)
    price = Integer(db_column_name=BACKSLASH, default=1)
    size = Text(null=True, db_column_name=GERMAN, unique=True)
    select_ = Integer(null=True, db_column_name=KEYWORD)


class Note(Table[dict[str, Any]], tablename=NOTE):
    line = ForeignKey(lambda: Line, db_column_name=LINE_ID, on_delete="cascade")
    body = Text(db_column_name=BODY)


TABLES = (Line, Note)


@pytest.fixture
async def tables(db: Engine) -> Engine:
    use_engine(db, *TABLES)
    await create_tables(*TABLES)
    await Line.insert(
        Line(no=1, quoted='a "b"', price=5, size="S", select_=7),
        Line(no=2, quoted="c\\d", price=0, size="M"),
        Line(no=3, quoted="é", price=9),
    )
    first, second, _ = await Line.select(Line.id).order_by(Line.no)
    await Note.insert(
        Note(line=first["id"], body="one"),
        Note(line=first["id"], body="two"),
        Note(line=second["id"], body="three"),
    )
    return db


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def test_queries_agree_with_raw_sql(tables: Engine) -> None:
    got = await Line.select(Line.no, Line.quoted, Line.price, Line.size, Line.select_).order_by(
        Line.no
    )
    raw = await tables.fetch(
        f"SELECT {_q(SPACED)}, {_q(QUOTED)}, {_q(BACKSLASH)}, {_q(GERMAN)}, {_q(KEYWORD)} "
        f"FROM {_q(LINE)} ORDER BY {_q(SPACED)}"
    )
    assert [tuple(r.values()) for r in got] == [tuple(r) for r in raw]

    joined = (
        await Note.select(Note.body, Note.line.quoted)
        .where(Note.line.price >= 0)
        .order_by(Note.body)
    )
    raw = await tables.fetch(
        f"SELECT n.{_q(BODY)}, l.{_q(QUOTED)} FROM {_q(NOTE)} n "
        f'JOIN {_q(LINE)} l ON l."id" = n.{_q(LINE_ID)} '
        f"WHERE l.{_q(BACKSLASH)} >= 0 ORDER BY 1"
    )
    assert [tuple(r.values()) for r in joined] == [tuple(r) for r in raw]
    assert len(joined) == 3

    await Line.update({Line.price: Line.price + 1}).where(Line.quoted == 'a "b"')
    row = await Line.objects().get(Line.quoted == 'a "b"')
    assert row is not None and row.price == 6
    row.size = "XL"
    await row.save()
    assert await Line.select(Line.size).where(Line.no == 1).first() == {"size": "XL"}
    await row.remove()
    assert await Line.count() == 2
    assert await Note.count() == 1  # ON DELETE CASCADE through the spaced column
    assert await Line.exists().where(Line.size == "M")


async def test_the_database_reads_back_as_created(tables: Engine) -> None:
    read = await read_schema(tables)
    assert read == compiler_for(tables.dialect).lower(state.of_tables(TABLES))


async def _apply(engine: Engine, op: ops.Operation, before: state.Schema) -> state.Schema:
    async with ddl_session(engine) as conn:
        await run_steps(conn, compiler_for(engine.dialect).compile(op, before))
    after = op.apply(before)
    assert await read_schema(engine) == compiler_for(engine.dialect).lower(after), op
    return after


#: Operations on odd names, among them what SQLite does by rebuilding the table.
OPERATIONS = {
    "add_column": lambda: ops.AddColumn(
        LINE, state.Column('a "new" one', state.Type("Text"), null=True)
    ),
    "rename_column": lambda: ops.RenameColumn(LINE, QUOTED, "Odd 'Other' Name"),
    "rename_table": lambda: ops.RenameTable(LINE, "Order Details"),
    "alter_type": lambda: ops.AlterColumn(LINE, BACKSLASH, type=state.Type("BigInt")),
    "alter_null": lambda: ops.AlterColumn(LINE, QUOTED, null=True),
    "add_index": lambda: ops.AddIndex(LINE, state.Index("idx with space", (KEYWORD, SPACED))),
    "drop_column": lambda: ops.DropColumn(LINE, GERMAN),
}


@pytest.mark.parametrize("name", OPERATIONS)
async def test_migration_operations_and_their_inverses(tables: Engine, name: str) -> None:
    before = state.of_tables(TABLES)
    rows = sorted(map(tuple, await tables.fetch(f"SELECT {_q(SPACED)} FROM {_q(LINE)}")))
    op = OPERATIONS[name]()
    after = await _apply(tables, op, before)
    back = op.inverse(before)
    assert back is not None
    assert await _apply(tables, back, after) == before
    assert sorted(map(tuple, await tables.fetch(f"SELECT {_q(SPACED)} FROM {_q(LINE)}"))) == rows


async def test_introspect_keeps_the_names(tables: Engine, tmp_path: Path) -> None:
    result = await introspect(tables)
    assert result.left_out == (), result.text
    for name in (LINE, NOTE, SPACED, GERMAN, KEYWORD):
        assert name in result.text, name
    path = tmp_path / "odd.yaml"
    path.write_text(result.text, encoding="utf-8")
    rebuilt = schema_state([path])
    assert isinstance(rebuilt, state.Schema), rebuilt
    assert compiler_for(tables.dialect).lower(rebuilt) == await read_schema(tables)

    out = tmp_path / "odd_pkg"
    build = subprocess.run(
        [sys.executable, "-m", "generator", "build", "--schema", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert build.returncode == 0, build.stderr
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
