"""Foreign keys that form a cycle (``tests/cases/foreign_key_cycle/cycles.yaml``).

``Band.headliner -> Concert.band -> Band`` (a nullable key closes it) and
``Department.manager -> Employee.department -> Department`` (two non-null,
deferrable keys checked at commit). The build is committed in
``tests/typing/fk_cycles`` (the typing tests read it): it must be fresh.
On both engines: ``create_tables(*TABLES)`` makes every constraint (read
back from the database), rows of the cycles go in and are refused as the
constraints say, joins work both ways, and ``drop_tables`` drops the lot.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from generator.build import build
from runtime import (
    CompositeForeignKey,
    Engine,
    ForeignKey,
    ForeignKeyViolation,
    Integer,
    IntegrityError,
    Serial,
    Table,
    create_tables,
    drop_tables,
)
from runtime.migrations.drift import drift
from runtime.schema import state
from runtime.schema.compile import compiler_for
from runtime.schema.read import read_schema
from runtime.schema.read.sqlite import deferrable_keys

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "cases" / "foreign_key_cycle" / "cycles.yaml"
PACKAGE = ROOT / "tests" / "typing" / "fk_cycles"


@pytest.fixture(scope="module")
def cycles() -> Iterator[ModuleType]:
    """The committed build, imported under a name of its own."""
    name = "fk_cycles"
    spec = importlib.util.spec_from_file_location(
        name, PACKAGE / "__init__.py", submodule_search_locations=[str(PACKAGE)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    try:
        spec.loader.exec_module(package)
        yield package.cycles
    finally:
        for key in [k for k in sys.modules if k == name or k.startswith(f"{name}.")]:
            del sys.modules[key]


def test_the_committed_build_is_fresh(capsys: pytest.CaptureFixture[str]) -> None:
    assert build([SCHEMA], PACKAGE, check=True) == 0, capsys.readouterr().out


def test_pyright_checks_the_build_alone(tmp_path: Path) -> None:
    """pyright over the package on its own, which it reads top to bottom: the
    key that closes a cycle calls ``runtime.forward_key``, not its join class,
    whose base names the later table (which made pyright report "Class
    definition for EmployeeJoin depends on itself")."""
    import json
    import shutil
    import subprocess

    shutil.copytree(PACKAGE, tmp_path / "fk_cycles")
    (tmp_path / "pyrightconfig.json").write_text(
        json.dumps(
            {"include": ["fk_cycles"], "extraPaths": [str(ROOT)], "typeCheckingMode": "standard"}
        )
    )
    pyright = subprocess.run(
        [sys.executable, "-m", "pyright", "--outputjson"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(pyright.stdout)
    assert report["summary"]["filesAnalyzed"] == 2, report
    assert report["generalDiagnostics"] == [], report
    source = (PACKAGE / "cycles.py").read_text()
    assert (
        "    manager: EmployeeJoin = forward_key(\n        EmployeeJoin, lambda: Employee,"
        in source
    )
    assert "    mentor: BandNullableJoin = BandNullableJoin(lambda: Band, null=True)\n" in source


def test_toml_says_the_same(tmp_path: Path) -> None:
    """The options in TOML: the same module as from YAML."""
    from generator.build import load_schemas, render_files

    yaml = tmp_path / "yaml" / "org.yaml"
    toml = tmp_path / "toml" / "org.toml"
    yaml.parent.mkdir()
    toml.parent.mkdir()
    yaml.write_text(
        "tables:\n"
        "  Team:\n"
        "    columns:\n"
        "      lead: {type: foreign_key, references: Person, null: true}\n"
        "  Person:\n"
        "    columns:\n"
        "      team: {type: foreign_key, references: Team, deferrable: true,"
        " initially_deferred: true}\n"
    )
    toml.write_text(
        "[tables.Team.columns]\n"
        'lead = { type = "foreign_key", references = "Person", null = true }\n'
        "[tables.Person.columns]\n"
        'team = { type = "foreign_key", references = "Team", deferrable = true,'
        " initially_deferred = true }\n"
    )
    built = []
    for path in (yaml, toml):
        modules, errors = load_schemas([path])
        assert not errors, errors
        built.append(render_files(modules, "out")["org.py"].split("\n", 2)[2])
    assert built[0] == built[1]
    assert "TeamJoin(lambda: Team, deferrable=True, initially_deferred=True)" in built[0]


def test_tables_are_in_an_order_that_leaves_out_the_closing_keys(cycles: ModuleType) -> None:
    names = [t.__name__ for t in cycles.TABLES]
    assert names == ["Venue", "Band", "Concert", "Department", "Employee"]
    closing = compiler_for("postgres").cycle_closing([state.table_of(t) for t in cycles.TABLES])
    assert [(t.name, c.name) for t, c in closing] == [
        ("band", "headliner"),
        ("department", "manager"),
    ]


def test_create_tables_sql_adds_the_closing_keys_after_the_tables(cycles: ModuleType) -> None:
    tables = [state.table_of(t) for t in cycles.TABLES]
    pg = compiler_for("postgres").create_tables(tables)
    creates = [i for i, sql in enumerate(pg) if sql.startswith("CREATE TABLE")]
    alters = [sql for sql in pg if sql.startswith("ALTER TABLE")]
    assert alters == [
        'ALTER TABLE "band" ADD CONSTRAINT "band_headliner_fkey" FOREIGN KEY ("headliner")'
        ' REFERENCES "concert" ("id") ON DELETE SET NULL ON UPDATE CASCADE',
        'ALTER TABLE "department" ADD CONSTRAINT "department_manager_fkey" FOREIGN KEY'
        ' ("manager") REFERENCES "employee" ("id") ON DELETE CASCADE ON UPDATE CASCADE'
        " DEFERRABLE INITIALLY DEFERRED",
    ]
    assert pg.index(alters[0]) > max(creates)
    # SQLite resolves a REFERENCES when a row is written: every key is inline.
    sqlite = compiler_for("sqlite").create_tables(tables)
    assert not any(sql.startswith("ALTER") for sql in sqlite)
    assert any('REFERENCES "employee"' in sql and "DEFERRABLE INITIALLY DEFERRED" in sql
               for sql in sqlite)  # fmt: skip


async def test_create_read_back_fill_and_drop(db: Engine, cycles: ModuleType) -> None:
    Band, Concert, Venue = cycles.Band, cycles.Concert, cycles.Venue
    Department, Employee = cycles.Department, cycles.Employee
    await create_tables(*cycles.TABLES).run(engine=db)
    # The database has every constraint, deferrability included.
    schema = state.of_tables(cycles.TABLES)
    assert await read_schema(db) == compiler_for(db.dialect).lower(schema)
    read = {t.name: t for t in await read_schema(db)}
    manager = next(c for c in read["department"].columns if c.name == "manager")
    assert manager.references is not None
    assert (manager.references.deferrable, manager.references.initially_deferred) == (True, True)
    headliner = next(c for c in read["band"].columns if c.name == "headliner")
    assert headliner.references is not None and not headliner.references.deferrable

    # A nullable key closes the first cycle: band, then concert, then the link.
    band = Band(name="Pythonistas")
    await band.save().run(engine=db)
    venue = Venue(name="Arena")
    await venue.save().run(engine=db)
    concert = Concert(band=band.id, venue=venue.id)
    await concert.save().run(engine=db)
    await Band.update(headliner=concert.id).where(Band.id == band.id).run(engine=db)
    with pytest.raises(ForeignKeyViolation):
        await Band.update(headliner=999).where(Band.id == band.id).run(engine=db)
    # Joins go both ways round the cycle.
    rows = await Band.select(Band.name, Band.headliner.band.name, Band.headliner.venue.name).run(
        engine=db
    )
    assert rows == [
        {
            "name": "Pythonistas",
            "headliner.band.name": "Pythonistas",
            "headliner.venue.name": "Arena",
        }
    ]
    back = (
        await Concert.select(Concert.band.headliner.venue.name).output(as_list=True).run(engine=db)
    )
    assert back == ["Arena"]
    # Related rows and prefetch, to the table defined later and back.
    fresh = await Band.objects().get(Band.id == band.id).run(engine=db)
    assert fresh is not None
    related = await fresh.get_related(Band.headliner).run(engine=db)
    assert related is not None and related.id == concert.id
    assert (await concert.get_related(Concert.band).run(engine=db)).name == "Pythonistas"
    prefetched = await Band.objects(Band.headliner).run(engine=db)
    assert [b.headliner.id for b in prefetched] == [concert.id]

    # Two non-null keys: the rows go in together, checked at commit.
    async with db.transaction():
        await Department.insert(Department(id=1, name="R&D", manager=1)).run(engine=db)
        await Employee.insert(Employee(id=1, name="Ada", department=1)).run(engine=db)
    assert await Employee.select(Employee.department.manager.name).output(as_list=True).run(
        engine=db
    ) == ["Ada"]
    # A key that still points nowhere at commit fails the commit, and the
    # transaction's rows are gone.
    with pytest.raises(ForeignKeyViolation):
        async with db.transaction():
            await Department.insert(Department(id=2, name="Ops", manager=2)).run(engine=db)
    assert await Department.count().run(engine=db) == 1
    # Not null is still not null (checked before any SQL).
    with pytest.raises(ValueError, match="not nullable"):
        await Employee.insert(Employee(id=3, name="Bob")).run(engine=db)

    # Dropping tables that reference each other, rows and all.
    await drop_tables(*cycles.TABLES).run(engine=db)
    assert await read_schema(db) == compiler_for(db.dialect).lower(state.Schema())


async def test_drop_inside_a_transaction(db: Engine, cycles: ModuleType) -> None:
    """Inside an open transaction too (where SQLite keeps foreign keys on, and
    dropping ``concert`` before ``band`` would leave ``band``'s self-reference
    action compiling against a missing table)."""
    Band, Concert, Venue = cycles.Band, cycles.Concert, cycles.Venue
    await create_tables(*cycles.TABLES).run(engine=db)
    band = Band(name="x")
    await band.save().run(engine=db)
    venue = Venue(name="v")
    await venue.save().run(engine=db)
    concert = Concert(band=band.id, venue=venue.id)
    await concert.save().run(engine=db)
    await Band.update(headliner=concert.id).where(Band.id == band.id).run(engine=db)
    async with db.transaction():
        await drop_tables(*cycles.TABLES).run(engine=db)
    assert await read_schema(db) == compiler_for(db.dialect).lower(state.Schema())


def test_sqlite_reads_deferrability_from_the_create_table_text() -> None:
    sql = (
        'CREATE TABLE "a" ("id" INTEGER PRIMARY KEY, "b" INTEGER DEFAULT \'x, DEFERRABLE\''
        ' REFERENCES "b" ("id") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,'
        " c INTEGER REFERENCES b DEFERRABLE, d INTEGER REFERENCES b NOT DEFERRABLE,"
        ' e INTEGER REFERENCES b /* DEFERRABLE */, "x ""y" INTEGER REFERENCES b (id)'
        ' deferrable initially deferred, CONSTRAINT "k" FOREIGN KEY ("f g") REFERENCES b (id)'
        " DEFERRABLE INITIALLY IMMEDIATE, CHECK (c > (1)))"
    )
    assert deferrable_keys(sql) == {
        "b": (True, True),
        "c": (True, False),
        'x "y': (True, True),
        "f g": (True, False),
    }


async def test_drift_sees_a_change_of_deferrability(db: Engine, cycles: ModuleType) -> None:
    """A key made without deferral where the tables defer it is a difference."""
    tables = [state.table_of(t) for t in cycles.TABLES]
    changed = [
        replace(
            t,
            columns=tuple(
                (
                    replace(c, references=replace(c.references, initially_deferred=False))
                    if c.references is not None and c.references.initially_deferred
                    else c
                )
                for c in t.columns
            ),
        )
        for t in tables
    ]
    async with db.transaction():
        for sql in compiler_for(db.dialect).create_tables(changed):
            await db.execute(sql)
    found = await drift(db, state.Schema(tuple(tables)))
    assert any("DEFERRABLE INITIALLY DEFERRED" in line for line in found), found
    assert await drift(db, state.Schema(tuple(changed))) == []


async def test_if_not_exists_twice(db: Engine, cycles: ModuleType) -> None:
    await create_tables(*cycles.TABLES, if_not_exists=True).run(engine=db)
    await create_tables(*cycles.TABLES, if_not_exists=True).run(engine=db)
    assert await read_schema(db) == compiler_for(db.dialect).lower(state.of_tables(cycles.TABLES))
    await drop_tables(*cycles.TABLES, if_exists=True).run(engine=db)
    await drop_tables(*cycles.TABLES, if_exists=True).run(engine=db)


async def test_an_immediate_cycle_needs_the_closing_key_later(
    db: Engine, cycles: ModuleType
) -> None:
    """Without deferral the database checks each statement: a concert needs
    its band first (the cycle's nullable key is what lets the rows in)."""
    await create_tables(*cycles.TABLES).run(engine=db)
    with pytest.raises(IntegrityError):
        await cycles.Concert.insert(cycles.Concert(band=5, venue=5)).run(engine=db)


# -- migrations -------------------------------------------------------------------------

PYPROJECT = """\
[project]
name = "demo"
version = "0"

[tool.piccolo-gen]
schema = ["schema"]
out = "app_tables"
migrations = "db_migrations"
"""

#: Two tables with a key each way; the second version closes the cycle
#: (``Team.lead``) and defers ``Person.team``.
OPEN = """\
tables:
  Team:
    columns:
      name: {type: varchar, length: 50}
      lead: {type: integer, null: true}
  Person:
    columns:
      name: {type: varchar, length: 50}
      team: {type: foreign_key, references: Team}
"""
CLOSED = """\
tables:
  Team:
    columns:
      name: {type: varchar, length: 50}
      lead: {type: foreign_key, references: Person, null: true, on_delete: set_null}
  Person:
    columns:
      name: {type: varchar, length: 50}
      team:
        type: foreign_key
        references: Team
        deferrable: true
        initially_deferred: true
"""


def test_migrations_create_close_and_drop_a_cycle(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``new --auto`` for tables in a cycle, for a key that closes one and for
    deferrability; ``forwards`` and ``backwards`` through all of it with rows
    in place; ``check`` with and without the database."""
    import asyncio

    from generator.cli import main
    from generator.migrate_cli import engine_from_url
    from generator.state import schema_state

    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    schema = tmp_path / "schema" / "org.yaml"
    schema.parent.mkdir()
    schema.write_text(CLOSED)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "db_migrations"
    database = ["--database", database_url]

    async def on_database(sql: str = "") -> tuple[object, list[object]]:
        engine = engine_from_url(database_url)
        try:
            if sql:
                await engine.execute(sql)
            rows = [tuple(r) for r in await engine.fetch('SELECT "id", "lead" FROM "team"')]
            return await read_schema(engine), rows
        finally:
            await engine.close()

    def lowered() -> object:
        desired = schema_state([schema.parent])
        assert isinstance(desired, state.Schema), desired
        return compiler_for(database_url.split(":")[0].replace("postgresql", "postgres")).lower(
            desired
        )

    # The whole cycle in one migration: the tables and the key that closes the
    # cycle are the schema's creation, so the migration's name is ``initial``.
    assert main(["migrations", "new", "--auto"]) == 0
    text = (folder / "0001_initial.py").read_text()
    assert "deferrable=True, initially_deferred=True" in text
    assert main(["migrations", "check"]) == 0
    assert main(["migrations", "forwards", *database]) == 0
    found, _ = asyncio.run(on_database())
    assert found == lowered()
    assert main(["migrations", "check", *database]) == 0
    assert main(["migrations", "backwards", "zero", *database]) == 0
    capsys.readouterr()

    # Open first, then the key that closes the cycle, with rows in place.
    (folder / "0001_initial.py").unlink()
    schema.write_text(OPEN)
    assert main(["migrations", "new", "--auto", "--name", "open"]) == 0
    assert main(["migrations", "forwards", *database]) == 0
    asyncio.run(on_database("INSERT INTO team (id, name, lead) VALUES (1, 'core', 1)"))
    asyncio.run(on_database("INSERT INTO person (id, name, team) VALUES (1, 'Ada', 1)"))
    schema.write_text(CLOSED)
    assert main(["migrations", "check"]) == 1
    assert main(["migrations", "new", "--auto", "--name", "close"]) == 0
    text = (folder / "0002_close.py").read_text()
    assert "AlterColumn" in text and "references=ForeignKey(" in text
    assert main(["migrations", "check"]) == 0
    assert main(["migrations", "forwards", *database]) == 0
    found, rows = asyncio.run(on_database())
    assert found == lowered() and rows == [(1, 1)]
    assert main(["migrations", "check", *database]) == 0
    # The closing key holds: deleting the lead sets it to NULL.
    _, rows = asyncio.run(on_database("DELETE FROM person WHERE id = 1"))
    assert rows == [(1, None)]
    # Dropping both tables of the cycle, and back.
    schema.write_text("tables:\n  Other:\n    columns:\n      name: {type: text}\n")
    assert main(["migrations", "new", "--auto", "--name", "drop"]) == 0
    text = (folder / "0003_drop.py").read_text()
    assert 'DropTable(name="team")' in text and 'DropTable(name="person")' in text
    assert main(["migrations", "forwards", *database]) == 0
    assert asyncio.run(_tables(database_url)) == []
    assert main(["migrations", "check", *database]) == 0
    assert main(["migrations", "backwards", "0002", *database]) == 0
    assert sorted(asyncio.run(_tables(database_url))) == ["person", "team"]
    assert main(["migrations", "backwards", "0001", *database]) == 0
    assert main(["migrations", "backwards", "zero", *database]) == 0
    engine_rows = asyncio.run(_tables(database_url))
    assert engine_rows == []


async def _tables(url: str) -> list[str]:
    from generator.migrate_cli import engine_from_url

    engine = engine_from_url(url)
    try:
        return [t.name for t in await read_schema(engine) if t.name in ("team", "person")]
    finally:
        await engine.close()


def test_a_key_that_closes_a_cycle_of_tables_already_there_is_no_initial_migration(
    cycles: ModuleType,
) -> None:
    from generator.migration_writer import auto_slug
    from runtime.schema.diff import diff

    created = diff(state.Schema(()), state.of_tables(cycles.TABLES)).operations
    closing = [op for op in created if type(op).__name__ == "AlterColumn"]
    assert closing and auto_slug(created, first=True) == "initial"
    assert auto_slug(closing, first=True) != "initial"


# -- a cycle closed by a foreign key over several columns --------------------------------


class Entry(Table[Any], tablename="entry", primary_key=("region", "number")):
    region: Integer[int] = Integer(required=True)
    number: Integer[int] = Integer(required=True)
    pick: ForeignKey[int | None, Any] = ForeignKey(lambda: Pick, null=True)


class Pick(Table[Any], tablename="pick"):
    id: Serial[int] = Serial(primary_key=True)
    region: Integer[int | None] = Integer(null=True)
    number: Integer[int | None] = Integer(null=True)
    entry: CompositeForeignKey[Any] = CompositeForeignKey(("region", "number"), lambda: Entry)


@pytest.mark.parametrize("order", [(Entry, Pick), (Pick, Entry)], ids=["entry-first", "pick-first"])
async def test_a_key_over_several_columns_that_closes_a_cycle_is_added_after_the_tables(
    db: Engine, order: tuple[type[Table[Any]], ...]
) -> None:
    # Created pick first, pick's key to entry's composite key closes the
    # cycle: PostgreSQL cannot name entry before it exists, so the key is
    # added once both tables do (as a key over one column is).
    await create_tables(*order).run(engine=db)
    schema = state.of_tables(order)
    assert await read_schema(db) == compiler_for(db.dialect).lower(schema)
    (entry,) = await Entry.insert(Entry(region=1, number=2)).run(engine=db)
    await Pick.insert(Pick(region=1, number=2)).run(engine=db)
    with pytest.raises(ForeignKeyViolation):
        await Pick.insert(Pick(region=1, number=3)).run(engine=db)
    (pick_id,) = await Pick.select(Pick.id).output(as_list=True).run(engine=db)
    await Entry.update(pick=pick_id).where(Entry.number == 2).run(engine=db)
    # Dropped in the same order, rows and all; a second create with
    # if_not_exists on tables that are there changes nothing.
    await create_tables(*order, if_not_exists=True).run(engine=db)
    assert await read_schema(db) == compiler_for(db.dialect).lower(schema)
    await drop_tables(*order).run(engine=db)
    assert await read_schema(db) == compiler_for(db.dialect).lower(state.Schema())
    assert entry.region == 1


#: A cycle of a key over two columns (``Pick.entry``, written first) and a
#: key over one column (``Entry.pick``): the migration must close it with
#: the one-column key, which can be added once both tables exist.
COMPOSITE_CYCLE = """\
tables:
  Pick:
    columns:
      region: {type: integer, null: true}
      number: {type: integer, null: true}
    foreign_keys:
      entry: {columns: [region, number], references: Entry}
  Entry:
    primary_key: [region, number]
    columns:
      region: {type: integer}
      number: {type: integer}
      pick: {type: foreign_key, references: Pick, null: true}
"""


def test_a_migration_closes_a_cycle_with_the_key_over_one_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    import asyncio

    from generator.cli import main
    from generator.migrate_cli import engine_from_url
    from generator.state import schema_state

    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    schema = tmp_path / "schema" / "picks.yaml"
    schema.parent.mkdir()
    schema.write_text(COMPOSITE_CYCLE)
    monkeypatch.chdir(tmp_path)
    database = ["--database", database_url]
    desired = schema_state([schema.parent])
    assert isinstance(desired, state.Schema), desired
    assert [t.name for t in desired.ordered()] == ["entry", "pick"]

    async def read_back() -> object:
        engine = engine_from_url(database_url)
        try:
            return await read_schema(engine)
        finally:
            await engine.close()

    assert main(["migrations", "new", "--auto"]) == 0
    text = (tmp_path / "db_migrations" / "0001_initial.py").read_text()
    assert text.startswith(
        '"""Create table entry; create table pick; alter column entry.pick (references).'
    )
    assert main(["migrations", "forwards", *database]) == 0
    dialect = database_url.split(":")[0].replace("postgresql", "postgres")
    assert asyncio.run(read_back()) == compiler_for(dialect).lower(desired)
    assert main(["migrations", "check", *database]) == 0
    assert main(["migrations", "backwards", "zero", *database]) == 0
    assert asyncio.run(_tables(database_url)) == []
