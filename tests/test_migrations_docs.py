"""The data migration of docs/migrations.md, run as written, on both engines."""

from __future__ import annotations

import re
from pathlib import Path

from test_migrations import database_state, lowered, make_folder

from runtime._engine import Engine
from runtime.migrations import Column, CreateTable, Table, Type
from runtime.migrations.files import load_folder
from runtime.migrations.lint import lint_migration, unacknowledged
from runtime.migrations.runner import Runner

DOCS = Path(__file__).resolve().parent.parent / "docs" / "migrations.md"


def documented_split_name() -> str:
    """The Python block of the page's "Data migrations" section."""
    section = DOCS.read_text().split("## Data migrations", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "docs/migrations.md lost its data migration example"
    return match.group(1)


async def test_the_documented_name_split_runs_forwards_and_back(db: Engine, tmp_path: Path) -> None:
    author = Table(
        "author",
        (
            Column("id", Type("Serial"), primary_key=True),
            Column("name", Type("Varchar", length=100), default=""),
        ),
    )
    folder = tmp_path / "migrations"
    make_folder(folder, [CreateTable(author)])
    (folder / "0001_step1.py").rename(folder / "0001_initial.py")
    text = (folder / "0001_initial.py").read_text().replace("0001_step1", "0001_initial")
    (folder / "0001_initial.py").write_text(text)
    (folder / "0002_split_name.py").write_text(documented_split_name())
    migrations = load_folder(folder)
    runner = Runner(db, migrations)
    await runner.forwards("0001_initial")
    await db.execute("INSERT INTO author (name) VALUES ('Ada Lovelace'), ('Alan Turing')")

    await runner.forwards()
    rows = await db.fetch("SELECT first_name, last_name FROM author ORDER BY id")
    assert [tuple(r) for r in rows] == [("Ada", "Lovelace"), ("Alan", "Turing")]
    assert await database_state(db) == lowered(db, migrations.states()[-1])
    assert not migrations.states()[-1].table("author").has_column("name")
    # The file acknowledges its one destructive operation: lint passes it.
    findings = lint_migration(migrations.get("0002_split_name"), migrations.states()[-2])
    destructive = [f for f in findings if f.kind == "destructive"]
    assert [f.key for f in destructive] == ["drop-column author.name"]
    assert unacknowledged(migrations.get("0002_split_name"), findings) == []

    await runner.backwards("0001_initial")
    rows = await db.fetch("SELECT name FROM author ORDER BY id")
    assert [tuple(r) for r in rows] == [("Ada Lovelace",), ("Alan Turing",)]
    assert await database_state(db) == lowered(db, migrations.states()[1])
