"""Check constraints on both engines: created, enforced, read back, migrated.

The oracle is the one of the migrations: the database read back equals what
the compiler lowers the state to (``read == lower``), on PostgreSQL too,
where the database keeps a check's expression in its own deparsed spelling.
"""

from __future__ import annotations

import decimal
from pathlib import Path
from typing import Any

import pytest
from test_migrations import database_state, history, lowered, make_folder, rows, snapshot

from generator.build import load_schemas, render_files
from runtime import (
    Check,
    CheckViolation,
    Integer,
    Numeric,
    SchemaProblem,
    Table,
    Varchar,
    check_schema,
    create_tables,
)
from runtime._ddl import create_table_sql
from runtime._engine import Engine
from runtime.migrations import AddCheck, DropCheck, DropColumn, MigrationError, RenameColumn
from runtime.migrations.drift import differences
from runtime.migrations.lint import lint
from runtime.migrations.runner import Runner
from runtime.schema.checksql import column_names, comparison_key, renamed
from runtime.schema.compile import compiler_for
from runtime.schema.database import DbSchema
from runtime.schema.operations import CreateTable
from runtime.schema.read import read_schema, read_schema_notes
from runtime.schema.state import Check as StateCheck
from runtime.schema.state import Schema, SchemaStateError, of_tables, table_of


class Ticket(
    Table[dict[str, Any]],
    tablename="ck_ticket",
    checks=(
        Check("ck_ticket_price_positive", "price >= 0"),
        Check("seats_in_range", '"seats" > 0 AND "seats" <= 500 AND length(code) = 4'),
    ),
):
    code = Varchar(length=10)
    price = Numeric(digits=(8, 2))
    seats = Integer(default=1)


def test_the_state_holds_the_checks_as_written() -> None:
    table = table_of(Ticket)
    assert table.checks == (
        StateCheck("ck_ticket_price_positive", "price >= 0"),
        StateCheck("seats_in_range", '"seats" > 0 AND "seats" <= 500 AND length(code) = 4'),
    )
    # Order-insensitive, as indexes are.
    assert table == type(table)(table.name, table.columns, checks=table.checks[::-1])
    assert "checks=(Check('ck_ticket_price_positive', 'price >= 0')," in repr(table)


def test_a_check_name_must_fit_and_an_expression_must_be_there() -> None:
    with pytest.raises(ValueError, match="63"):
        Check("x" * 64, "a > 0")
    with pytest.raises(ValueError, match="empty expression"):
        Check("a_positive", "  ")
    with pytest.raises(TypeError, match="two checks are named 'a_positive'"):

        class Twice(
            Table[dict[str, Any]],
            checks=(Check("a_positive", "a > 0"), Check("a_positive", "a >= 0")),
        ):
            a = Integer()


async def test_a_row_the_check_refuses_raises_check_violation(db: Engine) -> None:
    await create_tables(Ticket).run(engine=db)
    await Ticket.insert(Ticket(code="ABCD", price=decimal.Decimal("1.50"), seats=2)).run(engine=db)
    with pytest.raises(CheckViolation) as raised:
        await Ticket.insert(Ticket(code="ABCD", price=decimal.Decimal("-1"), seats=2)).run(
            engine=db
        )
    # PostgreSQL names both; on SQLite, which names the check only, the
    # query adds its table (the check is one of the class's).
    assert raised.value.constraint == "ck_ticket_price_positive"
    assert raised.value.table == "ck_ticket"
    with pytest.raises(CheckViolation) as raised:
        await Ticket.insert(Ticket(code="ABC", price=decimal.Decimal("1"), seats=2)).run(engine=db)
    assert raised.value.constraint == "seats_in_range"
    assert raised.value.table == "ck_ticket"
    assert await rows(db, "ck_ticket", '"code", "seats"') == [("ABCD", 2)]
    # The database is what the state says, checks included and nothing noted.
    reading = await read_schema_notes(db, tables={"ck_ticket"})
    assert reading.notes == ()
    assert {c.name for c in reading.schema.table("ck_ticket").checks} == {
        "ck_ticket_price_positive",
        "seats_in_range",
    }
    assert await database_state(db) == lowered(db, of_tables([Ticket]))


async def test_a_changed_expression_reads_as_different(db: Engine) -> None:
    await create_tables(Ticket).run(engine=db)
    state = of_tables([Ticket])
    table = state.table("ck_ticket")
    changed = type(state)(
        (
            type(table)(
                table.name,
                table.columns,
                checks=(StateCheck("ck_ticket_price_positive", "price >= 1"), table.checks[1]),
            ),
        )
    )
    assert await database_state(db) != lowered(db, changed)


async def test_add_and_drop_check_forwards_and_back_on_rows(db: Engine, tmp_path: Path) -> None:
    base = table_of(Ticket)
    plain = type(base)(base.name, base.columns)
    passing = StateCheck("ck_ticket_price_positive", '"price" >= 0')
    failing = StateCheck("ck_ticket_seats_big", '"seats" >= 10')
    folder = tmp_path / "migrations"
    migrations = make_folder(
        folder,
        [CreateTable(plain)],
        [AddCheck("ck_ticket", passing)],
        [RenameColumn("ck_ticket", "price", "cost")],
    )
    runner = Runner(db, migrations)
    await runner.forwards("0001")
    p = db.dialect.placeholder
    for code, price, seats in (("A", "1.5", 2), ("B", "0", 3)):
        await Ticket.insert(Ticket(code=code, price=decimal.Decimal(price), seats=seats)).run(
            engine=db
        )
    data = await rows(db, "ck_ticket")
    await runner.forwards()
    after = migrations.state()
    assert after.table("ck_ticket").checks == (StateCheck(passing.name, '"cost" >= 0'),)
    assert await database_state(db) == lowered(db, after)
    assert await rows(db, "ck_ticket") == data
    with pytest.raises(CheckViolation):
        await db.execute(
            f'INSERT INTO "ck_ticket" ("code", "cost", "seats") VALUES ({p(1)}, {p(2)}, {p(3)})',
            ["C", -2, 1],
        )
    await runner.backwards("0001")
    assert await database_state(db) == lowered(db, migrations.state(1))
    assert await rows(db, "ck_ticket") == data
    # A check the rows fail: the lint says so beforehand, and the migration
    # fails leaving schema, rows and history as they were.
    migrations = make_folder(folder, [AddCheck("ck_ticket", failing)], start=4)
    ops = [AddCheck("ck_ticket", failing)]
    assert [f.code for f in lint(ops, migrations.state(3))] == ["check"]
    runner = Runner(db, migrations)
    await runner.forwards("0003")
    before = await snapshot(db, ["ck_ticket"])
    with pytest.raises(MigrationError, match="ck_ticket_seats_big"):
        await runner.forwards()
    assert await snapshot(db, ["ck_ticket"]) == before
    assert [h[0] for h in await history(db)] == migrations.ids()[:3]
    # Dropping a check: backwards adds it again.
    op = DropCheck("ck_ticket", passing.name)
    assert op.inverse(migrations.state(3)) == AddCheck(
        "ck_ticket", StateCheck(passing.name, '"cost" >= 0')
    )


def lowered_db(db: Engine, state: Schema) -> DbSchema:
    return compiler_for(db.dialect).lower(state)


async def _ticket_with(db: Engine, old: str, new: str) -> None:
    """Make the ticket table by raw SQL: its own DDL with ``old`` replaced by ``new``."""
    (create,) = create_table_sql(Ticket, db.dialect)
    assert create.count(old) == 1, (old, create)
    await db.execute(create.replace(old, new))


async def test_check_schema_weighs_a_missing_or_other_check_as_a_warning(db: Engine) -> None:
    await _ticket_with(db, ', CONSTRAINT "ck_ticket_price_positive" CHECK (price >= 0)', "")
    report = await check_schema(Ticket).run(engine=db)
    expected = "CHECK (price >= 0)"
    assert report.problems == (
        SchemaProblem(
            "warning",
            "missing_check",
            "ck_ticket",
            "ck_ticket_price_positive",
            expected,
            None,
            f"check ck_ticket_price_positive of ck_ticket is missing (expected {expected})",
        ),
    )
    assert report.ok
    await db.execute('DROP TABLE "ck_ticket"')
    await _ticket_with(db, "CHECK (price >= 0)", "CHECK (price > 1)")
    (problem,) = (await check_schema(Ticket).run(engine=db)).problems
    assert (problem.severity, problem.kind, problem.name) == (
        "warning",
        "check",
        "ck_ticket_price_positive",
    )
    # Found as the database spells it (PostgreSQL: ``CHECK ((price > (1)::numeric))``).
    assert problem.found is not None
    assert comparison_key(problem.found) == comparison_key("price > 1")
    assert problem.text.endswith("in the database, expected CHECK (price >= 0)")
    # Drift says the same in its words.
    lines = differences(lowered_db(db, of_tables([Ticket])), await read_schema(db))
    assert lines == [
        f"check ck_ticket_price_positive of ck_ticket differs: {problem.found} in the database,"
        " CHECK (price >= 0) in the migrations"
    ]


async def test_a_check_only_the_database_has_is_an_info(db: Engine) -> None:
    await _ticket_with(
        db, "CHECK (price >= 0)", 'CHECK (price >= 0), CONSTRAINT "extra" CHECK (seats < 1000)'
    )
    (problem,) = (await check_schema(Ticket).run(engine=db)).problems
    assert (problem.severity, problem.kind, problem.name) == ("info", "extra_check", "extra")


# -- the expression's tokens -------------------------------------------------------


def test_column_names_skip_keywords_functions_casts_and_strings() -> None:
    sql = "length(\"name\") > 0 AND price::numeric >= 0 AND code NOT IN ('a', 'b') OR x IS NULL"
    assert column_names(sql) == ["name", "price", "code", "x"]
    assert column_names('"odd ""name""" > 0') == ['odd "name"']


def test_renamed_rewrites_the_column_and_nothing_else() -> None:
    sql = "\"price\" >= 0 AND price < 'price' AND price(1) > 0"
    assert renamed(sql, "price", "cost") == "\"cost\" >= 0 AND cost < 'price' AND price(1) > 0"
    assert renamed("price > 0", "price", "Unit Price") == '"Unit Price" > 0'


def test_the_comparison_key_agrees_on_postgresql_spellings() -> None:
    same = [
        ("price >= 0", "CHECK ((price >= (0)::numeric))"),
        ('"year" > -1', "(year > '-1'::integer)"),
        ("name <> ''", "((name)::text <> ''::text)"),
        ("a > 0 AND b > 0", "((a > 0) AND (b > 0))"),
    ]
    for written, deparsed in same:
        assert comparison_key(written) == comparison_key(deparsed), (written, deparsed)
    assert comparison_key("price >= 0") != comparison_key("price >= 1")
    assert comparison_key("name <> 'A'") != comparison_key("name <> 'a'")


# -- the DDL -------------------------------------------------------------------------


def test_the_ddl_names_each_check() -> None:
    table = table_of(Ticket)
    for dialect in ("postgres", "sqlite"):
        compiler = compiler_for(dialect)
        (create,) = compiler.create_table(table)
        assert create.endswith(
            ', CONSTRAINT "ck_ticket_price_positive" CHECK (price >= 0),'
            ' CONSTRAINT "seats_in_range" CHECK ("seats" > 0 AND "seats" <= 500'
            " AND length(code) = 4))"
        )
    state = of_tables([Ticket])
    add = AddCheck("ck_ticket", StateCheck("big", "seats > 10"))
    assert compiler_for("postgres").compile(add, state) == [
        'ALTER TABLE "ck_ticket" ADD CONSTRAINT "big" CHECK (seats > 10)'
    ]
    assert compiler_for("postgres").compile(DropCheck("ck_ticket", "seats_in_range"), state) == [
        'ALTER TABLE "ck_ticket" DROP CONSTRAINT "seats_in_range"'
    ]
    (rebuild,) = compiler_for("sqlite").compile(add, state)
    assert 'CONSTRAINT "big" CHECK (seats > 10)' in rebuild.statements()[0]


def test_operations_refuse_what_cannot_be() -> None:
    state = of_tables([Ticket])
    with pytest.raises(SchemaStateError, match="has a check 'seats_in_range' already"):
        AddCheck("ck_ticket", StateCheck("seats_in_range", "seats > 0")).apply(state)
    with pytest.raises(SchemaStateError, match="names no column 'prise'"):
        AddCheck("ck_ticket", StateCheck("p", "prise > 0")).apply(state)
    with pytest.raises(SchemaStateError, match="has no check 'nope'"):
        DropCheck("ck_ticket", "nope").apply(state)
    # Dropping a column drops the checks over it; its inverse brings both back.
    drop = DropColumn("ck_ticket", "seats")
    after = drop.apply(state)
    assert [c.name for c in after.table("ck_ticket").checks] == ["ck_ticket_price_positive"]
    assert drop.inverse(state).apply(after) == state


def test_checks_in_a_toml_schema_reach_the_class_statement(tmp_path: Path) -> None:
    path = tmp_path / "tickets.toml"
    path.write_text(
        '[tables.Ticket.columns]\nprice = {type = "numeric", digits = [5, 2]}\n\n'
        '[tables.Ticket.checks]\nticket_price_check = "price >= 0"\n'
    )
    modules, errors = load_schemas([path])
    assert not errors, errors
    code = render_files(modules, "out")["tickets.py"]
    assert 'checks=(Check("ticket_price_check", "price >= 0"),),' in code
