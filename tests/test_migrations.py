"""Applying and reverting migrations on real databases (SQLite and PostgreSQL).

The oracle: after ``forwards`` the database read back equals what the
compiler makes of the replayed state; after ``backwards`` it equals the state
before; rows in columns no operation touched are unchanged. A migration that
fails leaves schema, data and history exactly as they were.
"""

from __future__ import annotations

import asyncio
import decimal
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from generator.migration_writer import render_migration, write_atomically
from runtime._engine import Engine, PostgresEngine, SQLiteEngine
from runtime.migrations import (
    HISTORY_TABLE,
    AddColumn,
    AddIndex,
    AddUnique,
    AlterColumn,
    Column,
    CreateTable,
    DropColumn,
    ForeignKey,
    Index,
    MigrationError,
    Operation,
    RenameColumn,
    RenameTable,
    RunSQL,
    Schema,
    Table,
    Type,
    Unique,
)
from runtime.migrations.drift import comparable, differences
from runtime.migrations.files import MigrationSet, load_folder
from runtime.migrations.runner import Runner, migration_sql
from runtime.schema.compile import compiler_for
from runtime.schema.read import read_schema

BAND = Table(
    "band",
    columns=(
        Column("id", Type("Serial"), primary_key=True),
        Column("name", Type("Varchar", length=50), default=""),
        Column("popularity", Type("Integer"), null=True),
    ),
)
CONCERT = Table(
    "concert",
    columns=(
        Column("id", Type("Serial"), primary_key=True),
        Column("band", Type("Integer"), references=ForeignKey("band"), null=True),
        Column("city", Type("Text"), default=""),
    ),
    indexes=(Index("concert_city", ("city",)),),
)


def make_folder(folder: Path, *migrations: Sequence[Operation], start: int = 1) -> MigrationSet:
    """Write one migration file per list of operations (as ``new`` writes them)."""
    existing = load_folder(folder)
    parent = existing.ids()[-1] if len(existing) else None
    for number, ops in enumerate(migrations, start=start):
        migration_id = f"{number:04d}_step{number}"
        write_atomically(
            folder / f"{migration_id}.py", render_migration(migration_id, parent, list(ops))
        )
        parent = migration_id
    return load_folder(folder)


async def database_state(engine: Engine) -> Any:
    return comparable(await read_schema(engine))


def lowered(engine: Engine, state: Schema) -> Any:
    return comparable(compiler_for(engine.dialect).lower(state))


async def rows(engine: Engine, table: str, columns: str = "*") -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await engine.fetch(f'SELECT {columns} FROM "{table}" ORDER BY 1')]


async def history(engine: Engine) -> list[tuple[Any, ...]]:
    return await rows(engine, HISTORY_TABLE, '"id", "checksum"')


async def snapshot(engine: Engine, tables: Sequence[str]) -> tuple[Any, ...]:
    """Schema, data and history, to compare before and after a failure."""
    data = {t: await rows(engine, t) for t in tables}
    return (await database_state(engine), data, await history(engine))


STEPS: list[list[Operation]] = [
    [CreateTable(BAND), CreateTable(CONCERT)],
    [
        AddColumn("band", Column("rating", Type("SmallInt"), default=3)),
        AlterColumn("band", "name", type=Type("Varchar", length=80)),
        AddIndex("band", Index("band_name_rating", ("name", "rating"))),
    ],
    [
        RenameColumn("concert", "city", "town"),
        RenameTable("concert", "gig"),
        AddUnique("band", Unique("band_name_key", ("name",))),
        AlterColumn("band", "popularity", null=False, default=0),
    ],
    [DropColumn("band", "rating")],
]


async def test_forwards_and_backwards_follow_the_states(db: Engine, tmp_path: Path) -> None:
    migrations = make_folder(tmp_path / "migrations", *STEPS)
    states = migrations.states()
    lines: list[str] = []
    runner = Runner(db, migrations, progress=lines.append)

    assert await runner.forwards("0001") == ["0001_step1"]
    assert await database_state(db) == lowered(db, states[1])
    await db.execute(
        "INSERT INTO band (name, popularity) VALUES ('Pythonistas', 10), ('Rustaceans', 7)"
    )
    await db.execute(
        "INSERT INTO concert (band, city) VALUES (1, 'Oslo'), (2, 'Lima'), (NULL, 'Rome')"
    )
    bands = await rows(db, "band", "id, name, popularity")
    concerts = await rows(db, "concert", "id, band, city")

    assert await runner.forwards() == ["0002_step2", "0003_step3", "0004_step4"]
    assert await database_state(db) == lowered(db, states[4])
    assert await rows(db, "band", "id, name, popularity") == bands
    assert await rows(db, "gig", "id, band, town") == concerts
    assert [r[0] for r in await history(db)] == migrations.ids()
    assert any(line.startswith("applying 0002_step2") for line in lines)
    assert any("rename table concert to gig (" in line for line in lines)
    assert any(line.startswith("applied 0003_step3 in ") for line in lines)

    for keep in (3, 2, 1):
        await runner.backwards(migrations.ids()[keep - 1])
        assert await database_state(db) == lowered(db, states[keep])
        assert [r[0] for r in await history(db)] == migrations.ids()[:keep]
        assert await rows(db, "band", "id, name, popularity") == bands
        concert = "gig" if keep >= 3 else "concert"
        town = "town" if keep >= 3 else "city"
        assert await rows(db, concert, f"id, band, {town}") == concerts
    # The dropped column came back with its default, not its data (lint says so).
    await runner.forwards()
    await runner.backwards("0003")
    assert await rows(db, "band", "id, rating") == [(1, 3), (2, 3)]

    assert await runner.backwards("zero") == ["0003_step3", "0002_step2", "0001_step1"]
    assert await database_state(db) == lowered(db, Schema())
    assert await history(db) == []


async def test_fake_records_without_running(db: Engine, tmp_path: Path) -> None:
    migrations = make_folder(tmp_path / "m", STEPS[0])
    for statement in compiler_for(db.dialect).create_table(BAND):
        await db.execute(statement)
    runner = Runner(db, migrations)
    await runner.forwards(fake=True)
    assert [r[0] for r in await history(db)] == ["0001_step1"]
    assert [t.name for t in (await database_state(db)).tables] == ["band"]
    await runner.backwards("zero", fake=True)
    assert await history(db) == []
    assert [t.name for t in (await database_state(db)).tables] == ["band"]


async def test_an_edited_applied_file_stops_forwards(db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    migrations = make_folder(folder, STEPS[0])
    await Runner(db, migrations).forwards()
    path = folder / "0001_step1.py"
    # Reformatting it or editing a comment changes nothing it does.
    path.write_text("# reviewed\n" + path.read_text().replace("    ", "  "))
    assert load_folder(folder).get("0001").checksum == migrations.get("0001").checksum
    path.write_text(path.read_text().replace('default=""', 'default="?"', 1))
    edited = make_folder(folder, STEPS[1], start=2)
    with pytest.raises(MigrationError, match="0001_step1.py was applied .* with checksum"):
        await Runner(db, edited).forwards()
    assert [r[0] for r in await history(db)] == ["0001_step1"]
    assert await database_state(db) == lowered(db, Schema((BAND, CONCERT)))
    status = await Runner(db, edited).status()
    assert [(s.id, s.state) for s in status] == [
        ("0001_step1", "changed"),
        ("0002_step2", "pending"),
    ]


@pytest.mark.parametrize(
    ("failing", "match"),
    [
        (AddUnique("band", Unique("band_name_key", ("name",))), "add unique band_name_key"),
        (AlterColumn("band", "popularity", null=False), "alter column band.popularity"),
        (RunSQL("UPDATE band SET nope = 1"), "run SQL UPDATE band SET nope = 1"),
        (
            AlterColumn("band", "name", type=Type("Varchar", length=50), unique=True),
            "alter column band.name",
        ),
    ],
)
async def test_a_failing_migration_leaves_everything_as_before(
    db: Engine, tmp_path: Path, failing: Operation, match: str
) -> None:
    folder = tmp_path / "m"
    migrations = make_folder(folder, STEPS[0])
    await Runner(db, migrations).forwards()
    await db.execute("INSERT INTO band (name, popularity) VALUES ('a', NULL), ('a', 2)")
    await db.execute("INSERT INTO concert (band, city) VALUES (1, 'Oslo')")
    before = await snapshot(db, ["band", "concert"])
    # Operations before the failing one succeed, then are undone with it.
    migrations = make_folder(
        folder,
        [
            AddColumn("band", Column("rating", Type("Integer"), default=1)),
            RenameColumn("concert", "city", "town"),
            RunSQL("UPDATE band SET rating = 5", backwards="UPDATE band SET rating = 1"),
            failing,
        ],
        start=2,
    )
    with pytest.raises(MigrationError, match="migration 0002_step2 failed at " + match) as raised:
        await Runner(db, migrations).forwards()
    assert raised.value.migration == "0002_step2"
    assert raised.value.__cause__ is not None
    assert await snapshot(db, ["band", "concert"]) == before


async def test_concurrent_forwards_apply_each_migration_once(db: Engine, tmp_path: Path) -> None:
    # Each migration also counts its runs in a table: a second run would add a row.
    counting: list[list[Operation]] = [
        [
            CreateTable(BAND),
            CreateTable(Table("runs", (Column("n", Type("Integer")),))),
            RunSQL("INSERT INTO runs (n) VALUES (1)", backwards="DELETE FROM runs"),
        ],
        [
            AddColumn("band", Column("rating", Type("Integer"), default=0)),
            RunSQL("INSERT INTO runs (n) VALUES (2)", backwards="DELETE FROM runs WHERE n = 2"),
        ],
        [RunSQL("INSERT INTO runs (n) VALUES (3)", backwards="DELETE FROM runs WHERE n = 3")],
    ]
    migrations = make_folder(tmp_path / "m", *counting)
    engines: list[Engine] = []
    for _ in range(3):
        if isinstance(db, SQLiteEngine):
            engines.append(SQLiteEngine(db.path))
        else:
            assert isinstance(db, PostgresEngine)
            engines.append(PostgresEngine(config=db.config))
    try:
        results = await asyncio.gather(*(Runner(e, migrations).forwards() for e in engines))
    finally:
        for engine in engines:
            await engine.close()
    applied = sorted(id_ for result in results for id_ in result)
    assert applied == migrations.ids()
    assert await rows(db, "runs") == [(1,), (2,), (3,)]
    assert [r[0] for r in await history(db)] == migrations.ids()


async def test_status_and_sql(db: Engine, tmp_path: Path) -> None:
    migrations = make_folder(tmp_path / "m", *STEPS[:2])
    runner = Runner(db, migrations)
    await runner.forwards("0001")
    status = await runner.status()
    assert [(s.id, s.state) for s in status] == [
        ("0001_step1", "applied"),
        ("0002_step2", "pending"),
    ]
    assert status[0].checksum == migrations.get("0001").checksum
    assert status[0].applied_at
    assert str(status[1]).startswith("pending  0002_step2")
    ((migration, statements),) = migration_sql(migrations, "0002", db.dialect.name)
    assert migration.id == "0002_step2"
    assert statements[0] == "-- add column band.rating"
    assert any('"rating"' in s for s in statements)
    # The printed SQL is what forwards runs: running it by hand gives the same database.
    for statement in statements:
        if not statement.startswith("--"):
            await db.execute(statement)
    assert await database_state(db) == lowered(db, migrations.state())


async def test_squash_replaces_applied_migrations(db: Engine, tmp_path: Path) -> None:
    from generator.migration_writer import render_migration as render

    folder = tmp_path / "m"
    migrations = make_folder(folder, *STEPS[:3])
    await Runner(db, migrations).forwards()
    state = migrations.state()
    # What `migrations squash 0003` writes: the state's tables, replacing 0001..0003.
    for m in migrations:
        assert m.path is not None
        Path(m.path).unlink()
    write_atomically(
        folder / "0003_squashed.py",
        render(
            "0003_squashed",
            None,
            [CreateTable(t) for t in state.ordered()],
            replaces=tuple(migrations.ids()),
        ),
    )
    write_atomically(
        folder / "0004_more.py",
        render("0004_more", "0003_step3", [DropColumn("band", "rating")]),
    )
    squashed = load_folder(folder)
    assert squashed.ids() == ["0003_squashed", "0004_more"]
    runner = Runner(db, squashed)
    assert [s.state for s in await runner.status()] == ["applied", "pending"]
    assert await runner.forwards() == ["0004_more"]
    assert await database_state(db) == lowered(db, squashed.state())
    await runner.backwards("zero")
    assert await history(db) == []
    assert await database_state(db) == lowered(db, Schema())
    # A new database runs the squashed file.
    assert await runner.forwards() == ["0003_squashed", "0004_more"]
    assert await database_state(db) == lowered(db, squashed.state())


async def test_a_non_atomic_migration_runs_outside_a_transaction(
    db: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    make_folder(folder, STEPS[0])
    (folder / "0002_index.py").write_text(
        "from runtime.migrations import AddIndex, Index, Migration\n\n"
        "migration = Migration(\n"
        "    id='0002_index',\n"
        "    parent='0001_step1',\n"
        "    operations=[AddIndex('band', Index('band_name', ('name',)), concurrently=True)],\n"
        "    atomic=False,\n"
        ")\n"
    )
    migrations = load_folder(folder)
    runner = Runner(db, migrations)
    await runner.forwards()
    assert await database_state(db) == lowered(db, migrations.state())
    if db.dialect.name == "postgres":
        sql = migration_sql(migrations, "0002", "postgres")[0][1]
        assert any("CONCURRENTLY" in s for s in sql)
    await runner.backwards("0001")
    assert await database_state(db) == lowered(db, migrations.states()[1])


async def test_drift_names_what_was_changed_by_hand(db: Engine, tmp_path: Path) -> None:
    from runtime.migrations.drift import drift

    migrations = make_folder(tmp_path / "m", STEPS[0], STEPS[1])
    runner = Runner(db, migrations)
    await runner.forwards("0001")
    # Applied: in step with the first migration (the second is pending, not drift).
    assert await drift(db, await runner.applied_state()) == []
    await db.execute('ALTER TABLE "band" ADD COLUMN "notes" TEXT')
    await db.execute('CREATE INDEX "band_popularity" ON "band" ("popularity")')
    found = await drift(db, await runner.applied_state())
    assert found[0] == "column band.notes is in the database, but no migration adds it"
    assert found[1].startswith("indexes of band differ")
    await db.execute('DROP TABLE "concert"')
    found = await drift(db, await runner.applied_state())
    assert "table concert is missing from the database" in found


async def test_a_type_change_keeps_the_default_the_new_type_renders(
    db: Engine, tmp_path: Path
) -> None:
    """PostgreSQL keeps a default's text through a type change ('1.500' when
    the digits become 2): the database read back has the default the new type
    renders, for a change of digits, of length and of integer width."""
    table = Table(
        "item",
        columns=(
            Column("id", Type("Serial"), primary_key=True),
            Column("price", Type("Numeric", digits=(12, 3)), default=decimal.Decimal("1.5")),
            Column("code", Type("Varchar", length=10), default="abc"),
            Column("stock", Type("Integer"), default=7),
            Column("ratio", Type("Real"), default=0.5),
        ),
    )
    migrations = make_folder(
        tmp_path / "m",
        [CreateTable(table)],
        [
            AlterColumn("item", "price", type=Type("Numeric", digits=(10, 2))),
            AlterColumn("item", "code", type=Type("Varchar", length=50)),
            AlterColumn("item", "stock", type=Type("BigInt")),
            AlterColumn("item", "ratio", type=Type("DoublePrecision")),
        ],
    )
    runner = Runner(db, migrations)
    await runner.forwards("0001")
    await db.execute('INSERT INTO "item" DEFAULT VALUES')
    await runner.forwards()
    read = await database_state(db)
    assert differences(lowered(db, migrations.state()), read) == []
    assert read == lowered(db, migrations.state())
    await db.execute('INSERT INTO "item" DEFAULT VALUES')
    found = await rows(db, "item", '"price", "code", "stock"')
    assert found == [(decimal.Decimal("1.50"), "abc", 7)] * 2
    await runner.backwards("zero")
    assert await database_state(db) == lowered(db, Schema())


#: Random edit sequences per engine; PICCOLO_GEN_MIGRATION_CASES=300 for a long run,
#: PICCOLO_GEN_MIGRATION_FIRST=15 PICCOLO_GEN_MIGRATION_CASES=1 to run seed 15 alone.
CASES = int(os.environ.get("PICCOLO_GEN_MIGRATION_CASES", "12"))
FIRST = int(os.environ.get("PICCOLO_GEN_MIGRATION_FIRST", "0"))


async def test_random_edit_sequences_forwards_and_back(db: Engine, tmp_path: Path) -> None:
    """Seeded random schemas and edits (tests/schema_edits.py), each as the
    files ``new --auto`` writes: forwards gives the edited state, backwards
    the one before, on the database read back."""
    import random

    from runtime.schema.diff import diff
    from tests.schema_edits import random_edits, random_schema

    for case in range(FIRST, FIRST + CASES):
        rng = random.Random(case)
        old = random_schema(rng)
        new, steps = random_edits(rng, old)
        folder = tmp_path / f"case{case}"
        migrations = make_folder(folder, diff(Schema(), old).operations, diff(old, new).operations)
        where = f"case {case}: {steps}"

        async def same(state: Schema, where: str = where) -> None:
            read = await database_state(db)
            found = differences(lowered(db, state), read)
            assert found == [], f"{where}: {found}"
            assert read == lowered(db, state), where

        assert migrations.state() == new, where
        runner = Runner(db, migrations)
        await runner.forwards("0001")
        await same(old)
        await runner.forwards()
        await same(new)
        await runner.backwards("0001")
        await same(old)
        await runner.backwards("zero")
        await same(Schema())


SPLIT_NAME = '''\
"""Split author.name into first_name and last_name, and back."""

from runtime.migrations import AddColumn, Column, Migration, MigrationDB, RunPython, Type


async def split_name(db: MigrationDB) -> None:
    p = db.placeholder
    for id_, name in await db.fetch("SELECT id, name FROM author ORDER BY id"):
        first, _, last = name.partition(" ")
        await db.execute(
            f"UPDATE author SET first_name = {p(1)}, last_name = {p(2)} WHERE id = {p(3)}",
            [first, last, id_],
        )
    if db.dialect == "fail":  # never: the type checker sees a str
        raise AssertionError


async def join_name(db: MigrationDB) -> None:
    await db.execute("UPDATE author SET name = first_name || ' ' || last_name")


migration = Migration(
    id="0002_split_name",
    parent="0001_step1",
    operations=[
        AddColumn("author", Column("first_name", Type("Varchar", length=50), default="")),
        AddColumn("author", Column("last_name", Type("Varchar", length=50), default="")),
        RunPython(split_name, join_name),
    ],
)
'''


async def test_run_python_changes_data_forwards_and_back(db: Engine, tmp_path: Path) -> None:
    import subprocess
    import sys

    author = Table(
        "author",
        (
            Column("id", Type("Serial"), primary_key=True),
            Column("name", Type("Varchar", length=100), default=""),
        ),
    )
    folder = tmp_path / "m"
    make_folder(folder, [CreateTable(author)])
    (folder / "0002_split_name.py").write_text(SPLIT_NAME)
    migrations = load_folder(folder)
    runner = Runner(db, migrations)
    await runner.forwards("0001")
    await db.execute("INSERT INTO author (name) VALUES ('Ada Lovelace'), ('Alan Turing')")
    await runner.forwards()
    assert await rows(db, "author", "first_name, last_name") == [
        ("Ada", "Lovelace"),
        ("Alan", "Turing"),
    ]
    await db.execute("UPDATE author SET name = ''")
    await runner.backwards("0001")
    assert await rows(db, "author", "name") == [("Ada Lovelace",), ("Alan Turing",)]
    assert await database_state(db) == lowered(db, migrations.states()[1])
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(folder)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout

    # A RunPython that fails undoes the whole migration, its own writes too.
    (folder / "0002_split_name.py").write_text(SPLIT_NAME.replace('db.dialect == "fail"', "True"))
    failing = load_folder(folder)
    before = await snapshot(db, ["author"])
    with pytest.raises(MigrationError, match="failed at run Python split_name"):
        await Runner(db, failing).forwards()
    assert await snapshot(db, ["author"]) == before


async def test_a_history_the_files_do_not_match_stops_forwards(db: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    migrations = make_folder(folder, *STEPS[:2])
    await Runner(db, migrations).forwards("0001")
    p = db.dialect.placeholder
    await db.execute(
        f'INSERT INTO "{HISTORY_TABLE}" ("id", "checksum") VALUES ({p(1)}, {p(2)})',
        ["0007_gone", "x"],
    )
    with pytest.raises(MigrationError, match="applied 0007_gone, which no migration file has"):
        await Runner(db, migrations).forwards()
    await db.execute(f'DELETE FROM "{HISTORY_TABLE}" WHERE "id" = \'0007_gone\'')
    await db.execute(f'UPDATE "{HISTORY_TABLE}" SET "id" = \'0002_step2\'')
    with pytest.raises(
        MigrationError, match="0001_step1 is not applied, but the later 0002_step2 is"
    ):
        await Runner(db, migrations).forwards()


async def test_an_irreversible_migration_refuses_backwards_before_running(
    db: Engine, tmp_path: Path
) -> None:
    migrations = make_folder(
        tmp_path / "m",
        STEPS[0],
        [
            AddColumn("band", Column("rating", Type("Integer"), default=0)),
            RunSQL("UPDATE band SET rating = 1"),
        ],
    )
    runner = Runner(db, migrations)
    await runner.forwards()
    before = await snapshot(db, ["band"])
    with pytest.raises(MigrationError, match="0002_step2 cannot be reverted: run SQL UPDATE band"):
        await runner.backwards("0001")
    assert await snapshot(db, ["band"]) == before


async def test_backwards_past_an_irreversible_migration_reverts_none(
    db: Engine, tmp_path: Path
) -> None:
    migrations = make_folder(
        tmp_path / "m",
        STEPS[0],
        [RunSQL("UPDATE band SET name = 'x'")],
        [AddColumn("band", Column("rating", Type("Integer"), default=0))],
    )
    runner = Runner(db, migrations)
    await runner.forwards()
    before = await snapshot(db, ["band"])
    with pytest.raises(MigrationError, match="0002_step2 cannot be reverted"):
        await runner.backwards("zero")
    assert await snapshot(db, ["band"]) == before


async def test_a_migration_that_cannot_compile_stops_forwards_before_any_runs(
    db: Engine, tmp_path: Path
) -> None:
    other = "sqlite" if db.dialect.name == "postgres" else "postgres"
    migrations = make_folder(
        tmp_path / "m",
        STEPS[0],
        [RunSQL({other: "UPDATE band SET name = 'x'"}, backwards={other: "SELECT 1"})],
    )
    with pytest.raises(
        MigrationError, match=f"0002_step2 cannot run on {db.dialect.name}: run SQL .* no SQL for"
    ):
        await Runner(db, migrations).forwards()
    assert await history(db) == []
    assert await database_state(db) == lowered(db, Schema())
