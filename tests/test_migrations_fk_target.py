"""Migrations that point a foreign key at a unique column instead of the id.

The differ says it as one ``AlterColumn`` (the key's type and its
``references``); the compiler changes the constraint on PostgreSQL and
rebuilds the table on SQLite. Each step's oracle is the database read back
against the state, forwards and back, on both engines; where rows exist,
they are carried across by SQL between the schema steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_migrations import database_state, lowered, make_folder, rows

from runtime._engine import Engine
from runtime.migrations import (
    AlterColumn,
    Column,
    CreateTable,
    ForeignKey,
    RunSQL,
    Schema,
    Table,
    Type,
)
from runtime.migrations.runner import Runner
from runtime.schema.diff import diff

EMAIL = Type("Varchar", length=100)
CUSTOMER = Table(
    "customer",
    columns=(
        Column("id", Type("Serial"), primary_key=True),
        Column("email", EMAIL, unique=True),
    ),
)


def order(key: Column) -> Table:
    return Table("order", columns=(Column("id", Type("Serial"), primary_key=True), key))


BY_ID = Column("customer", Type("Integer"), null=True, references=ForeignKey("customer"))
BY_EMAIL = Column("customer", EMAIL, null=True, references=ForeignKey("customer", column="email"))


def test_the_differ_retargets_the_key_in_one_alter_column() -> None:
    old = Schema((CUSTOMER, order(BY_ID)))
    new = Schema((CUSTOMER, order(BY_EMAIL)))
    assert diff(old, new).operations == [
        AlterColumn(
            "order", "customer", type=EMAIL, references=ForeignKey("customer", column="email")
        )
    ]
    assert diff(new, old).operations == [
        AlterColumn("order", "customer", type=Type("Integer"), references=ForeignKey("customer"))
    ]


async def test_retargeting_forwards_and_back(db: Engine, tmp_path: Path) -> None:
    old = Schema((CUSTOMER, order(BY_ID)))
    new = Schema((CUSTOMER, order(BY_EMAIL)))
    migrations = make_folder(
        tmp_path / "m",
        [CreateTable(CUSTOMER), CreateTable(order(BY_ID))],
        diff(old, new).operations,
    )
    runner = Runner(db, migrations)
    await runner.forwards("0001")
    assert await database_state(db) == lowered(db, migrations.states()[1])
    await db.execute("INSERT INTO customer (email) VALUES ('ada@example.com'), ('bob@example.com')")
    # No orders yet: the key's type changes with nothing to convert.
    await runner.forwards()
    assert await database_state(db) == lowered(db, new)
    await db.execute("""INSERT INTO "order" (customer) VALUES ('bob@example.com'), (NULL)""")
    assert await rows(db, "order", "id, customer") == [(1, "bob@example.com"), (2, None)]
    with pytest.raises(Exception, match="(?i)foreign key"):
        await db.execute("""INSERT INTO "order" (customer) VALUES ('nobody@example.com')""")
    await db.execute('DELETE FROM "order"')
    await runner.backwards("0001")
    assert await database_state(db) == lowered(db, old)
    await db.execute('INSERT INTO "order" (customer) VALUES (2)')
    assert await rows(db, "order", "customer") == [(2,)]


#: Ids to emails and back, around the schema steps: the key loses its
#: constraint, takes text, gets its customer's email, and points at it.
CARRY = [
    AlterColumn("order", "customer", references=None),
    AlterColumn("order", "customer", type=EMAIL),
    RunSQL(
        'UPDATE "order" SET customer = (SELECT email FROM customer'
        ' WHERE CAST(customer.id AS VARCHAR(100)) = "order".customer)',
        'UPDATE "order" SET customer = (SELECT CAST(customer.id AS VARCHAR(100))'
        ' FROM customer WHERE customer.email = "order".customer)',
    ),
    AlterColumn("order", "customer", references=ForeignKey("customer", column="email")),
]


async def test_retargeting_with_rows_forwards_and_back(db: Engine, tmp_path: Path) -> None:
    migrations = make_folder(
        tmp_path / "m", [CreateTable(CUSTOMER), CreateTable(order(BY_ID))], CARRY
    )
    runner = Runner(db, migrations)
    await runner.forwards("0001")
    await db.execute("INSERT INTO customer (email) VALUES ('ada@example.com'), ('bob@example.com')")
    await db.execute('INSERT INTO "order" (customer) VALUES (2), (1), (NULL)')

    await runner.forwards()
    assert await database_state(db) == lowered(db, Schema((CUSTOMER, order(BY_EMAIL))))
    assert await rows(db, "order", "id, customer") == [
        (1, "bob@example.com"),
        (2, "ada@example.com"),
        (3, None),
    ]
    await runner.backwards("0001")
    assert await database_state(db) == lowered(db, Schema((CUSTOMER, order(BY_ID))))
    expected: list[tuple[Any, ...]] = [(1, 2), (2, 1), (3, None)]
    assert await rows(db, "order", "id, customer") == expected
