"""Native enum types on both engines: created, enforced, ordered, read back, migrated.

PostgreSQL holds an ``Enum`` column as a ``CREATE TYPE ... AS ENUM``; SQLite
as text with a ``CHECK (column IN (...))``. The oracles are those of the
migrations (the database read back equals what the compiler lowers the
state to) and the values as raw SQL reads them.
"""

from __future__ import annotations

import enum
import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
from test_migrations import database_state, lowered, make_folder, rows

from generator.cli import main
from generator.introspect import enum_class_name, enum_member_names, introspect
from generator.state import schema_state
from runtime import (
    CheckViolation,
    Count,
    DatabaseError,
    Enum,
    Max,
    Min,
    Table,
    Varchar,
    check_schema,
    create_tables,
    drop_tables,
)
from runtime._engine import Engine
from runtime.migrations import (
    AddColumn,
    AddEnumValue,
    AlterColumn,
    Column,
    CreateEnum,
    DropEnum,
    DropEnumValue,
    EnumType,
    MigrationError,
    RenameColumn,
    RenameEnumValue,
    RenameTable,
    Type,
)
from runtime.migrations.drift import differences
from runtime.migrations.lint import lint
from runtime.migrations.runner import Runner
from runtime.schema.diff import diff
from runtime.schema.operations import CreateTable, DropTable
from runtime.schema.state import Schema, SchemaStateError, of_tables


class Mood(enum.StrEnum):
    # Not in alphabetical order: sorts tell the two orders apart.
    sad = "sad"
    happy = "happy"
    so_so = "so so"


class Person(Table[dict[str, Any]], tablename="ne_person"):
    name = Varchar(length=20)
    mood = Enum(Mood, type_name="ne_mood", null=True)
    tier = Enum(Mood, type_name="ne_mood", default=Mood.sad)


def test_the_state_holds_the_type_and_the_columns_name_it() -> None:
    state = of_tables([Person])
    assert state.enums == (EnumType("ne_mood", ("sad", "happy", "so so")),)
    column = state.table("ne_person").column("mood")
    assert column.type == Type("Enum", enum="ne_mood")
    assert repr(column.type) == "Type('Enum', enum='ne_mood')"
    assert state.enum_users("ne_mood") == [
        (state.table("ne_person"), column),
        (state.table("ne_person"), state.table("ne_person").column("tier")),
    ]


async def test_values_come_back_as_members_and_order_follows_the_type(db: Engine) -> None:
    await create_tables(Person).run(engine=db)
    for name, mood in (("a", Mood.so_so), ("b", "happy"), ("c", None), ("d", Mood.sad)):
        await Person.insert(Person(name=name, mood=mood)).run(engine=db)
    got = await Person.select(Person.name, Person.mood).order_by(Person.name).run(engine=db)
    assert [r["mood"] for r in got] == [Mood.so_so, Mood.happy, None, Mood.sad]
    assert all(type(r["mood"]) is Mood for r in got if r["mood"] is not None)
    people = await Person.objects().where(Person.mood.is_in([Mood.sad, Mood.so_so])).run(engine=db)
    assert sorted(p.name for p in people) == ["a", "d"]
    assert await Person.count().where(Person.mood == Mood.happy).run(engine=db) == 1
    assert (await Person.objects().first().run(engine=db)) is not None
    ordered = await (
        Person.select(Person.name)
        .where(Person.mood.is_not_null())
        .order_by(Person.mood)
        .output(as_list=True)
        .run(engine=db)
    )
    assert ordered == ["d", "b", "a"]  # sad < happy < so so: declaration order, not text
    later = Person.select(Person.name).where(Person.mood > Mood.sad).order_by(Person.name)
    assert await later.output(as_list=True).run(engine=db) == ["a", "b"]
    down = Person.select(Person.name).order_by(Person.mood, ascending=False)
    assert (await down.where(Person.mood <= Mood.happy).output(as_list=True).run(engine=db)) == [
        "b",
        "d",
    ]
    raw = await rows(db, "ne_person", '"name", "mood", "tier"')
    assert sorted(raw) == [
        ("a", "so so", "sad"),
        ("b", "happy", "sad"),
        ("c", None, "sad"),
        ("d", "sad", "sad"),
    ]


async def test_a_bad_value_raises_before_the_database(db: Engine) -> None:
    with pytest.raises(ValueError, match="'angry' is not one of Mood"):
        Person(name="x", mood="angry")  # type: ignore[arg-type]
    await create_tables(Person).run(engine=db)
    with pytest.raises(ValueError, match="is not one of Mood"):
        await Person.select().where(Person.mood == "angry").run(engine=db)  # type: ignore[arg-type]


async def test_the_database_refuses_a_value_outside_the_type(db: Engine) -> None:
    await create_tables(Person).run(engine=db)
    p = db.dialect.placeholder
    sql = f'INSERT INTO "ne_person" ("name", "mood", "tier") VALUES ({p(1)}, {p(2)}, {p(3)})'
    if db.dialect.name == "sqlite":
        with pytest.raises(CheckViolation, match="ne_person_mood_enum"):
            await db.execute(sql, ["x", "angry", "sad"])
    else:
        with pytest.raises(DatabaseError, match="invalid input value for enum"):
            await db.execute(sql, ["x", "angry", "sad"])


async def test_the_database_is_what_the_state_says(db: Engine) -> None:
    await create_tables(Person).run(engine=db)
    assert await database_state(db) == lowered(db, of_tables([Person]))
    await drop_tables(Person).run(engine=db)
    await create_tables(Person).run(engine=db)  # the type went with the table
    assert await database_state(db) == lowered(db, of_tables([Person]))


MOOD = EnumType("ne_mood", ("sad", "happy"))
PERSON = of_tables([Person]).table("ne_person")
PLAIN_PERSON = type(PERSON)(
    "ne_person",
    (
        Column("id", Type("Serial"), primary_key=True),
        Column("name", Type("Varchar", length=20), default=""),
        Column("mood", Type("Enum", enum="ne_mood"), null=True),
    ),
)


async def test_migrations_create_extend_shrink_and_drop_a_type(db: Engine, tmp_path: Path) -> None:
    migrations = make_folder(
        tmp_path / "migrations",
        [CreateEnum(MOOD), CreateTable(PLAIN_PERSON)],
        [AddEnumValue("ne_mood", "so so"), AddEnumValue("ne_mood", "glad", before="happy")],
        [
            AddColumn(
                "ne_person",
                Column("tier", Type("Enum", enum="ne_mood"), default="glad"),
            )
        ],
        [DropTable("ne_person"), DropEnum("ne_mood")],
    )
    states = migrations.states()
    assert states[2].enum("ne_mood").values == ("sad", "glad", "happy", "so so")
    runner = Runner(db, migrations)
    await runner.forwards("0001")
    assert await database_state(db) == lowered(db, states[1])
    p = db.dialect.placeholder
    insert = f'INSERT INTO "ne_person" ("name", "mood") VALUES ({p(1)}, {p(2)})'
    await db.execute(insert, ["a", "happy"])
    await runner.forwards("0003")
    assert await database_state(db) == lowered(db, states[3])
    await db.execute(insert, ["b", "so so"])
    assert await rows(db, "ne_person", '"name", "mood", "tier"') == [
        ("a", "happy", "glad"),
        ("b", "so so", "glad"),
    ]
    # Back past the new values: a row holds one, so the type cannot lose it
    # and nothing changes.
    with pytest.raises(MigrationError):
        await runner.backwards("0001")
    assert await database_state(db) == lowered(db, states[2])
    await db.execute('DELETE FROM "ne_person" WHERE "name" = \'b\'')
    await runner.backwards("0001")
    assert await database_state(db) == lowered(db, states[1])
    assert await rows(db, "ne_person", '"name", "mood"') == [("a", "happy")]
    await runner.forwards()
    assert await database_state(db) == lowered(db, Schema())
    await runner.backwards("zero")
    assert await database_state(db) == lowered(db, Schema())


def test_the_differ_orders_enum_operations_and_refuses_a_reorder() -> None:
    before = Schema((PLAIN_PERSON,), enums=(MOOD,))
    grown = Schema((PLAIN_PERSON,), enums=(EnumType("ne_mood", ("bad", "sad", "happy", "ok")),))
    assert diff(before, grown).operations == [
        AddEnumValue("ne_mood", "bad", before="sad"),
        AddEnumValue("ne_mood", "ok"),
    ]
    shrunk = Schema((PLAIN_PERSON,), enums=(EnumType("ne_mood", ("happy",)),))
    assert diff(before, shrunk).operations == [DropEnumValue("ne_mood", "sad")]
    assert diff(shrunk, before).operations == [AddEnumValue("ne_mood", "sad", before="happy")]
    with pytest.raises(SchemaStateError, match="change order"):
        diff(before, Schema((PLAIN_PERSON,), enums=(EnumType("ne_mood", ("happy", "sad")),)))
    created = diff(Schema(), before).operations
    assert created == [CreateEnum(MOOD), CreateTable(PLAIN_PERSON)]
    assert diff(before, Schema()).operations == [DropTable("ne_person"), DropEnum("ne_mood")]


def test_operations_refuse_what_cannot_be() -> None:
    with pytest.raises(SchemaStateError, match="does not exist"):
        CreateTable(PLAIN_PERSON).apply(Schema())
    state = Schema((PLAIN_PERSON,), enums=(MOOD,))
    with pytest.raises(SchemaStateError, match="is the type of ne_person.mood"):
        DropEnum("ne_mood").apply(state)
    with pytest.raises(SchemaStateError, match="has the value 'sad' already"):
        AddEnumValue("ne_mood", "sad").apply(state)
    with pytest.raises(SchemaStateError, match="has no value 'meh'"):
        AddEnumValue("ne_mood", "x", after="meh").apply(state)
    assert DropEnumValue("ne_mood", "sad").inverse(state) == AddEnumValue(
        "ne_mood", "sad", before="happy"
    )


# -- from the schema language -----------------------------------------------------------

SCHEMA = """\
enums:
  Feeling: {native: true, values: {sad: sad, happy: happy, so_so: so so}}
  Status: {native: true, name: Person Status, values: {Active: active, Gone: gone}}
  Size: {small: s, large: l}
tables:
  Member:
    tablename: ne_member
    columns:
      name: {type: varchar, length: 20}
      feeling: {type: enum, choices: Feeling, null: true}
      status: {type: enum, choices: Status, default: Gone}
      size: {type: varchar, length: 1, choices: Size}
"""


def _build(tmp_path: Path, text: str, package: str) -> Any:
    schema = tmp_path / "schema"
    schema.mkdir(exist_ok=True)
    (schema / "people.yaml").write_text(text)
    assert main(["build", "--schema", str(schema), "--out", str(tmp_path / package)]) == 0
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(f"{package}.people")
    finally:
        sys.path.remove(str(tmp_path))


def test_the_generated_column_is_typed_with_the_enum(tmp_path: Path) -> None:
    people = _build(tmp_path, SCHEMA, "ne_gen_a")
    source = (tmp_path / "ne_gen_a" / "people.py").read_text()
    assert 'feeling: Enum[Feeling | None] = Enum(Feeling, type_name="feeling", null=True)' in source
    assert 'Enum(Status, type_name="Person Status", default=Status.Gone)' in source
    state = of_tables(people.TABLES)
    assert state.enums == (
        EnumType("feeling", ("sad", "happy", "so so")),
        EnumType("Person Status", ("active", "gone")),
    )


async def test_generated_tables_on_both_engines(db: Engine, tmp_path: Path) -> None:
    people = _build(tmp_path, SCHEMA, f"ne_gen_{db.dialect.name}")
    Member, Feeling, Status = people.Member, people.Feeling, people.Status
    await create_tables(*people.TABLES).run(engine=db)
    await Member.insert(
        Member(name="a", feeling=Feeling.so_so),
        Member(name="b", feeling=Feeling.sad, status=Status.Active),
        Member(name="c"),
    ).run(engine=db)
    got = await Member.select().order_by(Member.feeling).run(engine=db)
    assert [(r["name"], r["feeling"], r["status"]) for r in got if r["feeling"]] == [
        ("b", Feeling.sad, Status.Active),
        ("a", Feeling.so_so, Status.Gone),
    ]
    assert await database_state(db) == lowered(db, of_tables(people.TABLES))
    members = await Member.objects().where(Member.status == Status.Gone).run(engine=db)
    assert sorted(m.name for m in members) == ["a", "c"]
    assert all(isinstance(m.status, Status) for m in members)


def test_migrations_new_auto_writes_enum_operations(database_url: str, tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    path = schema / "people.yaml"
    path.write_text(SCHEMA)
    folder = tmp_path / "migrations"
    common = ["--folder", str(folder)]
    new = ["migrations", "new", "--auto", "--schema", str(path), *common]
    check = ["migrations", "check", "--schema", str(path), *common]
    assert main(new) == 0
    initial = (folder / "0001_initial.py").read_text()
    assert "CreateEnum(EnumType('feeling', ('sad', 'happy', 'so so')))" in initial.replace('"', "'")
    assert main(check) == 0
    assert main(["migrations", "forwards", *common, "--database", database_url]) == 0
    # A new value, and a column that uses it as its default: the value goes
    # first, in a migration of its own (PostgreSQL cannot use a value in the
    # transaction that adds it).
    path.write_text(
        SCHEMA.replace("happy: happy,", "happy: happy, glad: glad,")
        + "      mood: {type: enum, choices: Feeling, default: glad}\n"
    )
    assert main(check) == 1
    assert main(new) == 0
    written = sorted(p.name for p in folder.glob("0*.py"))
    assert written == [
        "0001_initial.py",
        "0002_add_value_glad_to_enum_type_feeling.py",
        "0003_add_ne_member_mood.py",
    ]
    assert "AddEnumValue('feeling', 'glad', before='so so')" in (
        folder / written[1]
    ).read_text().replace('"', "'")
    assert main(check) == 0
    assert main(["migrations", "forwards", *common, "--database", database_url]) == 0
    assert (
        main(["migrations", "check", "--database", database_url, "--schema", str(path), *common])
        == 0
    )
    assert main(["migrations", "backwards", "0001", *common, "--database", database_url]) == 0


# -- introspection ---------------------------------------------------------------------

ROUND_TRIP = """\
enums:
  Feeling: {native: true, values: {sad: sad, happy: happy, so_so: So so}}
  PersonStatus: {native: true, name: Person Status, values: {active: active, title_: title}}
tables:
  NeMember:
    columns:
      name: {type: varchar, length: 20}
      feeling: {type: enum, choices: Feeling, null: true}
      status: {type: enum, choices: PersonStatus, default: title_}
      plain: {type: enum, choices: Feeling}
      needed: {type: enum, choices: Feeling, required: true}
"""


async def test_introspect_round_trip(db: Engine, tmp_path: Path) -> None:
    people = _build(tmp_path, ROUND_TRIP, f"ne_rt_{db.dialect.name}")
    await create_tables(*people.TABLES).run(engine=db)
    result = await introspect(db)
    assert result.left_out == ()
    folder = tmp_path / "introspected"
    folder.mkdir()
    (folder / "people.yaml").write_text(result.text)
    rebuilt = schema_state([folder / "people.yaml"])
    assert isinstance(rebuilt, Schema), rebuilt
    assert lowered(db, rebuilt) == await database_state(db)
    if db.dialect.name == "postgres":
        assert "  PersonStatus: {native: true, name: Person Status, values:" in result.text
        assert rebuilt == of_tables(people.TABLES)
        # The same generated code, from the file and from the database.
        assert main(["build", "--schema", str(folder), "--out", str(tmp_path / "again")]) == 0
        original = (tmp_path / f"ne_rt_{db.dialect.name}" / "people.py").read_text()
        assert (tmp_path / "again" / "people.py").read_text() == original
    else:
        # SQLite has no enum types: a text column and its check.
        assert "feeling: {type: text, null: true}" in result.text
        assert "ne_member_feeling_enum:" in result.text


def test_names_of_introspected_enums() -> None:
    assert enum_class_name("mood") == "Mood"
    assert enum_class_name("order status") == "OrderStatus"
    assert enum_class_name("9 lives") == "E9Lives"
    assert enum_member_names(["Happy", "So so", "2nd", "title", "happy", "class"]) == [
        "happy",
        "so_so",
        "v_2nd",
        "title_",
        "happy_",
        "class_",
    ]


def test_lint_says_a_removed_value_depends_on_the_data() -> None:
    state = Schema((PLAIN_PERSON,), enums=(MOOD,))
    (finding,) = lint([DropEnumValue("ne_mood", "sad")], state)
    assert finding.kind == "data" and finding.key == "enum-value ne_mood.sad"
    assert "ne_person.mood" in finding.message


async def test_alter_changes_an_enum_column(db: Engine) -> None:
    await create_tables(Person).run(engine=db)
    await Person.insert(Person(name="a", mood=Mood.happy)).run(engine=db)
    await Person.alter().set_default(Person.tier, Mood.happy).run(engine=db)
    await Person.alter().rename_column(Person.mood, "feeling").run(engine=db)
    assert await rows(db, "ne_person", '"name", "feeling", "tier"') == [("a", "happy", "sad")]
    p = db.dialect.placeholder
    await db.execute(
        f'INSERT INTO "ne_person" ("name", "feeling") VALUES ({p(1)}, {p(2)})', ["b", "sad"]
    )
    assert (await rows(db, "ne_person", '"name", "tier"'))[1] == ("b", "happy")
    with pytest.raises(DatabaseError):
        # The type (PostgreSQL) or the check (SQLite, renamed with the column) still holds.
        await db.execute(
            f'INSERT INTO "ne_person" ("name", "feeling") VALUES ({p(1)}, {p(2)})', ["c", "x"]
        )


async def test_drift_and_check_schema_see_a_type_changed_by_hand(pg_db: Engine) -> None:
    await create_tables(Person).run(engine=pg_db)
    await pg_db.execute("ALTER TYPE \"ne_mood\" ADD VALUE 'angry'")
    found = differences(lowered(pg_db, of_tables([Person])), await database_state(pg_db))
    assert found == [
        "enum type ne_mood is ENUM ('sad', 'happy', 'so so', 'angry') in the database, "
        "ENUM ('sad', 'happy', 'so so') in the migrations"
    ]
    report = await check_schema(Person).run(engine=pg_db)
    assert not report.ok
    assert [(p.severity, p.kind, p.name) for p in report.problems] == [("error", "enum", "ne_mood")]


TOML = """\
[enums.Mood]
native = true
name = "toml_mood"
values = { sad = "sad", happy = "happy" }

[tables.TomlPerson.columns]
mood = { type = "enum", choices = "Mood", default = "happy" }
"""


def test_a_toml_schema_declares_native_enums_too(tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "people.toml").write_text(TOML)
    assert main(["build", "--schema", str(schema), "--out", str(tmp_path / "ne_toml")]) == 0
    source = (tmp_path / "ne_toml" / "people.py").read_text()
    assert 'mood: Enum[Mood] = Enum(Mood, type_name="toml_mood", default=Mood.happy)' in source
    (schema / "people.toml").write_text(TOML.replace('sad = "sad"', "sad = 1"))
    assert main(["build", "--schema", str(schema), "--out", str(tmp_path / "ne_toml")]) == 1


async def test_renames_and_a_text_column_becoming_an_enum(db: Engine, tmp_path: Path) -> None:
    text_person = type(PLAIN_PERSON)(
        "ne_person",
        (*PLAIN_PERSON.columns[:2], Column("mood", Type("Varchar", length=10), null=True)),
    )
    migrations = make_folder(
        tmp_path / "migrations",
        [CreateTable(text_person)],
        [CreateEnum(MOOD), AlterColumn("ne_person", "mood", type=Type("Enum", enum="ne_mood"))],
        [RenameColumn("ne_person", "mood", "feeling"), RenameTable("ne_person", "ne_people")],
    )
    states = migrations.states()
    runner = Runner(db, migrations)
    await runner.forwards("0001")
    p = db.dialect.placeholder
    await db.execute(
        f'INSERT INTO "ne_person" ("name", "mood") VALUES ({p(1)}, {p(2)})', ["a", "sad"]
    )
    for step in (2, 3):
        await runner.forwards(migrations.ids()[step - 1])
        assert await database_state(db) == lowered(db, states[step])
    assert await rows(db, "ne_people", '"name", "feeling"') == [("a", "sad")]
    await runner.backwards("0001")
    assert await database_state(db) == lowered(db, states[1])
    assert await rows(db, "ne_person", '"name", "mood"') == [("a", "sad")]


def test_a_column_moves_to_a_new_type_between_create_and_drop() -> None:
    before = Schema((PLAIN_PERSON,), enums=(MOOD,))
    moved = type(PLAIN_PERSON)(
        "ne_person",
        (*PLAIN_PERSON.columns[:2], Column("mood", Type("Enum", enum="ne_mood2"), null=True)),
    )
    new_type = EnumType("ne_mood2", ("happy", "sad"))
    assert diff(before, Schema((moved,), enums=(new_type,))).operations == [
        CreateEnum(new_type),
        AlterColumn("ne_person", "mood", type=Type("Enum", enum="ne_mood2")),
        DropEnum("ne_mood"),
    ]


async def test_min_and_max_follow_the_enum_order(db: Engine) -> None:
    await create_tables(Person).run(engine=db)
    for name, mood in (("a", Mood.so_so), ("b", Mood.happy), ("c", None), ("d", Mood.sad)):
        await Person.insert(Person(name=name, mood=mood, tier=mood or Mood.sad)).run(engine=db)
    got = (
        await Person.select(Min(Person.mood), Max(Person.mood))
        .output(as_tuples=True)
        .run(engine=db)
    )
    assert got == [(Mood.sad, Mood.so_so)]
    assert all(type(v) is Mood for v in got[0])
    grouped = await (
        Person.select(Person.tier, Count())
        .group_by(Person.tier)
        .order_by(Person.tier)
        .output(as_tuples=True)
        .run(engine=db)
    )
    assert grouped == [(Mood.sad, 2), (Mood.happy, 1), (Mood.so_so, 1)]


async def test_a_value_renamed_in_place_keeps_the_rows(db: Engine, tmp_path: Path) -> None:
    with_default = type(PLAIN_PERSON)(
        "ne_person",
        (*PLAIN_PERSON.columns, Column("tier", Type("Enum", enum="ne_mood"), default="sad")),
    )
    migrations = make_folder(
        tmp_path / "migrations",
        [CreateEnum(MOOD), CreateTable(with_default)],
        [RenameEnumValue("ne_mood", "sad", "blue")],
    )
    states = migrations.states()
    assert states[2].enum("ne_mood").values == ("blue", "happy")
    assert states[2].table("ne_person").column("tier").default == "blue"
    runner = Runner(db, migrations)
    await runner.forwards("0001")
    p = db.dialect.placeholder
    insert = f'INSERT INTO "ne_person" ("name", "mood") VALUES ({p(1)}, {p(2)})'
    await db.execute(insert, ["a", "sad"])
    await db.execute(insert, ["b", "happy"])
    await runner.forwards()
    assert await database_state(db) == lowered(db, states[2])
    assert await rows(db, "ne_person", '"name", "mood", "tier"') == [
        ("a", "blue", "blue"),
        ("b", "happy", "blue"),
    ]
    with pytest.raises(DatabaseError):
        await db.execute(insert, ["c", "sad"])
    await runner.backwards("0001")
    assert await database_state(db) == lowered(db, states[1])
    assert await rows(db, "ne_person", '"name", "mood", "tier"') == [
        ("a", "sad", "sad"),
        ("b", "happy", "sad"),
    ]


async def test_renaming_an_indexed_column_beside_an_enum_column(db: Engine, tmp_path: Path) -> None:
    indexed = type(PLAIN_PERSON)(
        "ne_person",
        (
            PLAIN_PERSON.columns[0],
            Column("name", Type("Varchar", length=20), default="", index=True),
            PLAIN_PERSON.columns[2],
        ),
    )
    migrations = make_folder(
        tmp_path / "migrations",
        [CreateEnum(MOOD), CreateTable(indexed)],
        [RenameColumn("ne_person", "name", "title")],
    )
    runner = Runner(db, migrations)
    await runner.forwards()
    assert await database_state(db) == lowered(db, migrations.states()[2])
