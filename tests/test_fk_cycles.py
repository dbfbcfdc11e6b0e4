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
from pathlib import Path
from types import ModuleType

import pytest

from generator.build import build
from runtime import (
    Engine,
    ForeignKeyViolation,
    IntegrityError,
    create_tables,
    drop_tables,
)
from runtime.schema import state
from runtime.schema.compile import compiler_for
from runtime.schema.read import read_schema

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
