"""``check_schema()`` on SQLite and PostgreSQL: a database made by
``create_tables()`` has no problem; one changed by raw SQL has exactly the
problems of the change, each weighed as docs/migrations.md ("At startup") says.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import generated.features
import generated.inventory
import generated.keys
import generated.music
import generated.shop
from generated.music import TABLES, Band, Shirt, Venue
from runtime import (
    CheckSchema,
    ForeignKey,
    Index,
    Integer,
    NotNullViolation,
    ProgrammingError,
    SchemaMismatch,
    SchemaProblem,
    SchemaReport,
    SQLiteEngine,
    Table,
    Varchar,
    check_schema,
    create_tables,
    drop_tables,
    run_sync,
    use_engine,
)
from runtime._ddl import create_table_sql
from runtime._engine import Engine


class Owner(Table[dict[str, Any]], tablename="check_owner"):
    email = Varchar(length=100, unique=True)


class Pet(Table[dict[str, Any]], tablename="check_pet", indexes=(Index("name", "age"),)):
    name = Varchar(length=20)
    owner = ForeignKey(lambda: Owner, null=True, on_delete="cascade")
    age = Integer(default=0, index=True)


PETS = (Owner, Pet)


def error(
    kind: str, table: str, name: str, expected: str | None, found: str | None, text: str
) -> SchemaProblem:
    return SchemaProblem("error", kind, table, name, expected, found, text)


async def check(db: Engine, *tables: type[Table[Any]]) -> SchemaReport:
    return await check_schema(*tables).run(engine=db)


async def rebuild(db: Engine, table: type[Table[Any]], old: str, new: str) -> None:
    """Make ``table`` again by raw SQL: its own DDL with ``old`` replaced by
    ``new`` (each of the pets dropped and made again, so a parent can change)."""
    await drop_tables(*PETS, if_exists=True).run(engine=db)
    for each in PETS:
        statements = create_table_sql(each, db.dialect)
        if each is table:
            assert sum(s.count(old) for s in statements) == 1, (old, statements)
            statements = [s.replace(old, new) for s in statements]
        for sql in statements:
            await db.execute(sql)


# -- a database the tables made ---------------------------------------------------------


#: Every generated module's tables (the shop's reference the music's).
MODULES = {
    "music": generated.music.TABLES,
    "shop": generated.music.TABLES + generated.shop.TABLES,
    "inventory": generated.inventory.TABLES,
    "keys": generated.keys.TABLES,
    "features": generated.features.TABLES,
}


@pytest.mark.parametrize("name", MODULES)
async def test_tables_made_by_create_tables_have_no_problem(db: Engine, name: str) -> None:
    tables = MODULES[name]
    await create_tables(*tables).run(engine=db)
    report = await check(db, *tables)
    assert report == SchemaReport(db.dialect.name, tuple(t._meta.tablename for t in tables), ())
    assert report.ok
    assert str(report).endswith(": no problems")


async def test_other_tables_of_the_database_are_no_concern(db: Engine) -> None:
    await create_tables(*TABLES).run(engine=db)
    await db.execute('CREATE TABLE "unrelated" ("x" INTEGER NOT NULL)')
    assert (await check(db, Band, Venue)).problems == ()


# -- one change by raw SQL, one problem --------------------------------------------------


async def test_a_dropped_column_is_an_error(db: Engine) -> None:
    await create_tables(*TABLES).run(engine=db)
    await db.execute('ALTER TABLE "venue" DROP COLUMN "capacity"')
    report = await check(db, *TABLES)
    assert report.problems == (
        error(
            "missing_column",
            "venue",
            "capacity",
            "INTEGER",
            None,
            "column venue.capacity is missing (expected INTEGER)",
        ),
    )
    assert not report.ok


async def test_a_dropped_table_is_an_error(db: Engine) -> None:
    await create_tables(*TABLES).run(engine=db)
    await db.execute('DROP TABLE "shirt"')
    report = await check(db, *TABLES)
    assert report.problems == (
        error("missing_table", "shirt", "", None, None, "table shirt is missing"),
    )
    # The others are read and fine: only the table the database lacks is named.
    assert (await check(db, Shirt)).errors == report.errors


async def test_another_type_is_an_error(db: Engine) -> None:
    await create_tables(*PETS).run(engine=db)
    await rebuild(db, Pet, '"name" VARCHAR(20)', '"name" VARCHAR(50)')
    assert (await check(db, *PETS)).problems == (
        error(
            "type",
            "check_pet",
            "name",
            "VARCHAR(20)",
            "VARCHAR(50)",
            "column check_pet.name: type VARCHAR(50), expected type VARCHAR(20)",
        ),
    )


async def test_another_nullability_is_an_error_each_way(db: Engine) -> None:
    await rebuild(db, Pet, '"age" INTEGER NOT NULL', '"age" INTEGER')
    assert (await check(db, *PETS)).problems == (
        error(
            "null",
            "check_pet",
            "age",
            "NOT NULL",
            None,
            "column check_pet.age: nullable, expected NOT NULL",
        ),
    )
    await rebuild(db, Pet, '"owner" INTEGER', '"owner" INTEGER NOT NULL')
    assert (await check(db, *PETS)).problems == (
        error(
            "null",
            "check_pet",
            "owner",
            None,
            "NOT NULL",
            "column check_pet.owner: NOT NULL, expected nullable",
        ),
    )


async def test_two_differences_of_one_column_are_two_lines(db: Engine) -> None:
    await rebuild(db, Pet, '"age" INTEGER NOT NULL', '"age" BIGINT')
    report = await check(db, *PETS)
    assert [(p.kind, p.name) for p in report.problems] == [("type", "age"), ("null", "age")]
    assert str(report).splitlines()[1:] == [
        "  error: column check_pet.age: type BIGINT, expected type INTEGER",
        "  error: column check_pet.age: nullable, expected NOT NULL",
    ]


# -- what the queries run without: warnings -------------------------------------------


async def test_a_missing_index_is_a_warning(db: Engine) -> None:
    await create_tables(*PETS).run(engine=db)
    await db.execute('DROP INDEX "check_pet_name_age"')
    report = await check(db, *PETS)
    assert report.problems == (
        SchemaProblem(
            "warning",
            "missing_index",
            "check_pet",
            "check_pet_name_age",
            "check_pet_name_age (name, age)",
            None,
            "index check_pet_name_age (name, age) of check_pet is missing",
        ),
    )
    assert report.ok


async def test_an_index_of_another_name_is_an_info(db: Engine) -> None:
    await create_tables(*PETS).run(engine=db)
    await db.execute('DROP INDEX "check_pet_age"')
    await db.execute('CREATE INDEX "pet_age" ON "check_pet" ("age")')
    assert (await check(db, *PETS)).problems == (
        SchemaProblem(
            "info",
            "index_name",
            "check_pet",
            "check_pet_age",
            "check_pet_age (age)",
            "pet_age (age)",
            "index check_pet_age (age) of check_pet is pet_age (age) in the database",
        ),
    )


async def test_a_missing_unique_constraint_is_a_warning(db: Engine) -> None:
    await rebuild(db, Owner, "NOT NULL UNIQUE", "NOT NULL")
    # SQLite keeps no name of a column's UNIQUE: the constraint is its columns.
    sql = "(email)" if db.dialect.name == "sqlite" else "check_owner_email_key (email)"
    name = "" if db.dialect.name == "sqlite" else "check_owner_email_key"
    assert (await check(db, *PETS)).problems == (
        SchemaProblem(
            "warning",
            "missing_unique",
            "check_owner",
            name,
            sql,
            None,
            f"unique constraint {sql} of check_owner is missing",
        ),
    )


async def test_a_missing_or_other_foreign_key_is_a_warning(db: Engine) -> None:
    declared = "REFERENCES check_owner (id) ON DELETE CASCADE ON UPDATE CASCADE"
    sql = ' REFERENCES "check_owner" ("id") ON DELETE CASCADE ON UPDATE CASCADE'
    await rebuild(db, Pet, sql, "")
    assert (await check(db, *PETS)).problems == (
        SchemaProblem(
            "warning",
            "foreign_key",
            "check_pet",
            "owner",
            declared,
            None,
            f"column check_pet.owner: no foreign key, expected {declared}",
        ),
    )
    await rebuild(db, Pet, "ON DELETE CASCADE", "ON DELETE SET NULL")
    other = declared.replace("ON DELETE CASCADE", "ON DELETE SET NULL")
    assert [(p.severity, p.expected, p.found) for p in (await check(db, *PETS)).problems] == [
        ("warning", declared, other)
    ]


async def test_another_default_is_a_warning_and_an_undeclared_one_an_info(db: Engine) -> None:
    await rebuild(db, Pet, '"age" INTEGER NOT NULL DEFAULT 0', '"age" INTEGER NOT NULL DEFAULT 1')
    assert (await check(db, *PETS)).problems == (
        SchemaProblem(
            "warning",
            "default",
            "check_pet",
            "age",
            "DEFAULT 0",
            "DEFAULT 1",
            "column check_pet.age: DEFAULT 1, expected DEFAULT 0",
        ),
    )
    await rebuild(db, Pet, '"owner" INTEGER', '"owner" INTEGER DEFAULT 7')
    assert [(p.severity, p.kind, p.found) for p in (await check(db, *PETS)).problems] == [
        ("info", "default", "DEFAULT 7")
    ]


# -- what the database has beyond the tables ------------------------------------------


async def test_an_extra_column_is_an_info_unless_inserts_fail_on_it(db: Engine) -> None:
    await create_tables(*TABLES).run(engine=db)
    await db.execute('ALTER TABLE "band" ADD COLUMN "notes" TEXT')
    report = await check(db, *TABLES)
    assert report.problems == (
        SchemaProblem(
            "info",
            "extra_column",
            "band",
            "notes",
            None,
            "TEXT",
            "column band.notes is in the database only (TEXT)",
        ),
    )
    assert report.ok
    await check_schema(*TABLES, strict=True).run(engine=db)  # an info never raises
    await db.execute('ALTER TABLE "venue" ADD COLUMN "city" TEXT NOT NULL DEFAULT \'x\'')
    await db.execute('ALTER TABLE "venue" ADD COLUMN "region" INTEGER NULL')
    assert [p.severity for p in (await check(db, *TABLES)).problems] == ["info"] * 3


async def test_an_extra_not_null_column_without_default_is_an_error(db: Engine) -> None:
    # Every insert of the tables leaves the column out, and fails on it.
    await rebuild(
        db,
        Pet,
        '"age" INTEGER NOT NULL DEFAULT 0',
        '"age" INTEGER NOT NULL DEFAULT 0, "tag" TEXT NOT NULL',
    )
    assert (await check(db, *PETS)).problems == (
        error(
            "extra_column",
            "check_pet",
            "tag",
            None,
            "TEXT NOT NULL",
            "column check_pet.tag is in the database only (TEXT NOT NULL): NOT NULL "
            "without a default, so inserts that leave it out fail",
        ),
    )
    with pytest.raises(NotNullViolation, match="tag"):
        await Pet.insert(Pet(name="Rex")).run(engine=db)


async def test_an_extra_index_is_an_info(db: Engine) -> None:
    await create_tables(*PETS).run(engine=db)
    await db.execute('CREATE UNIQUE INDEX "pet_name" ON "check_pet" ("name")')
    report = await check(db, *PETS)
    assert [(p.severity, p.kind, p.found) for p in report.problems] == [
        ("info", "extra_index", "UNIQUE pet_name (name)")
    ]


# -- strict ------------------------------------------------------------------------------


async def test_strict_raises_a_clear_schema_mismatch(db: Engine) -> None:
    await create_tables(*TABLES).run(engine=db)
    await db.execute('ALTER TABLE "venue" DROP COLUMN "capacity"')
    await db.execute('DROP INDEX "band_popularity"')
    await db.execute('ALTER TABLE "band" ADD COLUMN "notes" TEXT')
    with pytest.raises(SchemaMismatch) as raised:
        await check_schema(*TABLES, strict=True).run(engine=db)
    mismatch = raised.value
    assert isinstance(mismatch, ProgrammingError)
    assert str(mismatch) == (
        f"the database does not match the tables ({db.dialect.name}): 1 error, 1 warning\n"
        "  error: column venue.capacity is missing (expected INTEGER)\n"
        "  warning: index band_popularity (popularity) of band is missing\n"
        "HINT: the database is behind the schema (on a new one, create_tables()); "
        "run `piccolo-gen migrations forwards`?"
    )
    assert mismatch.__cause__ is None and mismatch.__context__ is None
    assert mismatch.report == await check(db, *TABLES)
    assert len(mismatch.report.infos) == 1  # the extra column: in the report, not the message
    assert mismatch.table is None and mismatch.columns == ()


async def test_strict_names_the_table_and_columns_when_one_table_has_them(db: Engine) -> None:
    await create_tables(*TABLES).run(engine=db)
    await db.execute('ALTER TABLE "venue" DROP COLUMN "capacity"')
    with pytest.raises(SchemaMismatch) as raised:
        await check_schema(Venue, strict=True).run(engine=db)
    assert (raised.value.table, raised.value.columns) == ("venue", ("capacity",))


# -- how it runs -------------------------------------------------------------------------


async def test_the_catalog_is_read_in_as_many_statements_for_one_table_as_for_all(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_tables(*TABLES).run(engine=db)
    statements: list[str] = []
    fetch = db._fetch_built

    async def counted(sql: str, params: Any = ()) -> Any:
        statements.append(sql)
        return await fetch(sql, params)

    monkeypatch.setattr(db, "_fetch_built", counted)
    await check(db, Band)
    one = len(statements)
    statements.clear()
    await check(db, *TABLES)
    assert one > 0
    assert len(statements) == one


async def test_the_engine_is_the_tables_bound_one(db: Engine, tmp_path: Path) -> None:
    await create_tables(*PETS).run(engine=db)
    use_engine(db, *PETS)
    try:
        report = await check_schema(*PETS)
        assert report.problems == () and report.dialect == db.dialect.name
        other = SQLiteEngine(path=str(tmp_path / "other.sqlite"))
        use_engine(other, Owner)
        with pytest.raises(ValueError, match="bound to different engines"):
            await check_schema(*PETS)
        assert (await check_schema(*PETS).run(engine=db)).ok  # named: no question
        await other.close()
    finally:
        use_engine(None, *PETS)


def test_run_sync_checks_from_synchronous_code(tmp_path: Path) -> None:
    engine = SQLiteEngine(path=str(tmp_path / "sync.sqlite"))
    try:
        create_tables(*TABLES).run_sync(engine=engine)
        assert check_schema(*TABLES).run_sync(engine=engine).problems == ()
        run_sync(engine.execute('DROP TABLE "ticket"'))
        with pytest.raises(SchemaMismatch, match="table ticket is missing"):
            check_schema(*TABLES, strict=True).run_sync(engine=engine)
    finally:
        run_sync(engine.close())


def test_bad_arguments_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="needs at least one table"):
        check_schema()
    with pytest.raises(TypeError, match=r"pass them unpacked: check_schema\(\*TABLES\)"):
        check_schema(TABLES)  # type: ignore[arg-type]
    assert isinstance(check_schema(Band), CheckSchema)


# -- one comparison, two wordings ------------------------------------------------------


def test_drift_and_the_check_word_one_comparison() -> None:
    """``compare`` says what differs once; drift words it for the migrations
    (a column's differences on one line), the check one line each."""
    from runtime.migrations.drift import differences
    from runtime.schema.compare import compare
    from runtime.schema.database import DbColumn, DbIndex, DbSchema, DbTable

    key = DbColumn("id", "INTEGER", True, None, primary_key=True)
    want = DbTable(
        "t",
        (key, DbColumn("a", "VARCHAR(5)", True, "''")),
        (DbIndex("t_a", ("a",)), DbIndex("t_b", ("a",), unique=True)),
    )
    have = DbTable(
        "t",
        (DbColumn("a", "TEXT", False, "''"), key, DbColumn("z", "INTEGER", True, None)),
        (DbIndex("t_a", ("a", "z")), DbIndex("t_b2", ("a",), unique=True)),
    )
    found = compare(DbSchema("sqlite", (want,)), DbSchema("sqlite", (have,)))
    assert [str(d) for d in found] == [
        "column t.a: type TEXT, expected type VARCHAR(5)",
        "column t.a: nullable, expected NOT NULL",
        "column t.z is in the database only (INTEGER NOT NULL): NOT NULL without a "
        "default, so inserts that leave it out fail",
        "index t_a (a) of t is t_a (a, z) in the database",
        "index UNIQUE t_b (a) of t is UNIQUE t_b2 (a) in the database",
    ]
    assert differences(DbSchema("sqlite", (want,)), DbSchema("sqlite", (have,))) == [
        "column t.a differs: type TEXT (migrations: VARCHAR(5)), nullable (migrations: NOT NULL)",
        "column t.z is in the database, but no migration adds it",
        "indexes of t differ: UNIQUE t_b2 (a) in the database, UNIQUE t_b (a) in the migrations",
        "indexes of t differ: t_a (a, z) in the database, t_a (a) in the migrations",
    ]
    # Equal after what does not tell databases apart (column order, a key's NOT NULL).
    same = DbTable("t", (DbColumn("id", "INTEGER", False, None, primary_key=True),))
    assert compare(DbSchema("sqlite", (DbTable("t", (key,)),)), DbSchema("sqlite", (same,))) == []


# -- the documentation's examples, as the check prints them ----------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs"


def documented(page: str, section: str) -> str:
    """The first plain code block of ``section`` of ``docs/page`` holding a mismatch."""
    text = (DOCS / page).read_text().split(section, 1)[1]
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)
    found = [b for lang, b in blocks if not lang and b.startswith("the database does not match")]
    assert found, f"docs/{page} lost its example under {section!r}"
    return str(found[0]).rstrip("\n")


async def test_the_documented_messages_are_the_checks(db: Engine) -> None:
    await create_tables(*TABLES).run(engine=db)
    await db.execute('ALTER TABLE "venue" DROP COLUMN "capacity"')
    with pytest.raises(SchemaMismatch) as raised:
        await check_schema(*TABLES, strict=True).run(engine=db)
    example = documented("errors.md", "## A database behind the schema")
    assert str(raised.value) == example.replace("(sqlite)", f"({db.dialect.name})")
    await db.execute('DROP TABLE "shirt"')
    await db.execute('DROP INDEX "band_popularity"')
    with pytest.raises(SchemaMismatch) as raised:
        await check_schema(*TABLES, strict=True).run(engine=db)
    example = documented("migrations.md", "## At startup")
    assert str(raised.value) == example.replace("(postgres)", f"({db.dialect.name})")
