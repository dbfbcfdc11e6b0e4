"""DDL on SQLite and PostgreSQL: table-level indexes and unique constraints
from the schema, and ``Table.alter()``.

Alter tests read the database's own catalog (``PRAGMA table_info``,
``information_schema``) to see what changed, since the table classes do not
change with an alter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from generated.inventory import PriceTier, StockItem, Warehouse
from runtime import (
    AlterError,
    DataError,
    ForeignKey,
    ForeignKeyViolation,
    Index,
    Integer,
    NotNullViolation,
    SQLiteEngine,
    Table,
    Text,
    UniqueViolation,
    Varchar,
    create_tables,
    drop_tables,
    use_engine,
)
from runtime._engine import Engine, PostgresEngine


class Owner(Table[dict[str, Any]], tablename="alter_owner"):
    name = Varchar(length=20, unique=True)


class Pet(Table[dict[str, Any]], tablename="alter_pet"):
    name = Varchar(length=20)
    owner = ForeignKey(lambda: Owner, null=True)
    age = Integer(default=0, index=True)


PET_NAMES = ("alter_pet", "alter_pet_renamed")
OWNER_NAMES = ("alter_owner", "alter_owner_renamed")


def ph(engine: Engine, index: int) -> str:
    return engine.dialect.placeholder(index)


async def insert(engine: Engine, table: str, **values: object) -> None:
    names = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join(ph(engine, i) for i in range(1, len(values) + 1))
    await engine.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', list(values.values()))


async def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await engine.fetch(sql)]


async def columns(engine: Engine, table: str) -> dict[str, dict[str, Any]]:
    """``{column: {"type", "null", "default"}}`` as the database reports them."""
    if engine.dialect.name == "sqlite":
        return {
            row[1]: {"type": row[2].upper(), "null": not row[3], "default": row[4]}
            for row in await engine.fetch(f'PRAGMA table_info("{table}")')
        }
    found = await engine.fetch(
        "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default"
        " FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
        [table],
    )
    result = {}
    for name, kind, length, nullable, default in found:
        shown = f"VARCHAR({length})" if kind == "character varying" else kind.upper()
        result[name] = {"type": shown, "null": nullable == "YES", "default": default}
    return result


async def index_names(engine: Engine, table: str) -> set[str]:
    if engine.dialect.name == "sqlite":
        found = await engine.fetch(f'PRAGMA index_list("{table}")')
        return {row[1] for row in found if not row[1].startswith("sqlite_autoindex")}
    found = await engine.fetch("SELECT indexname FROM pg_indexes WHERE tablename = $1", [table])
    return {row[0] for row in found if not row[0].endswith(("_pkey", "_key"))}


async def drop_pets(engine: Engine) -> None:
    for name in PET_NAMES:
        await engine.execute(f'DROP TABLE IF EXISTS "{name}"')
    for name in OWNER_NAMES:
        await engine.execute(f'DROP TABLE IF EXISTS "{name}"')


@pytest.fixture
async def pets(engine: Engine) -> AsyncIterator[Engine]:
    """Owners ann and bob, pets rex (3, ann) and tom (5, bob)."""
    use_engine(engine, Owner, Pet)
    await drop_pets(engine)
    await create_tables(Owner, Pet)
    ann, bob = await Owner.insert(Owner(name="ann"), Owner(name="bob"))
    await Pet.insert(Pet(name="rex", owner=ann, age=3), Pet(name="tom", owner=bob, age=5))
    try:
        yield engine
    finally:
        await drop_pets(engine)
        use_engine(None, Owner, Pet)


@pytest.fixture
async def stock(engine: Engine) -> AsyncIterator[Engine]:
    """The inventory tables: two warehouses, three stock items."""
    tables = (Warehouse, StockItem, PriceTier)
    use_engine(engine, *tables)
    await drop_tables(*tables, if_exists=True)
    await create_tables(*tables)
    north, south = await Warehouse.insert(
        Warehouse(code="N", city="Oslo"), Warehouse(code="S", city="Rome")
    )
    await StockItem.insert(
        StockItem(warehouse=north, sku="apple", bin="A1", quantity=3),
        StockItem(warehouse=north, sku="pear", quantity=1),
        StockItem(warehouse=south, sku="apple", quantity=9),
    )
    try:
        yield engine
    finally:
        await drop_tables(*tables, if_exists=True)
        use_engine(None, *tables)


# -- indexes and unique constraints from the schema --------------------------------


def test_create_table_emits_table_level_indexes_and_constraints() -> None:
    assert str(StockItem.create_table()) == (
        'CREATE TABLE "stock_item" ("id" SERIAL PRIMARY KEY, "warehouse" INTEGER NOT NULL'
        ' REFERENCES "warehouse" ("id") ON DELETE CASCADE ON UPDATE CASCADE,'
        ' "sku" VARCHAR(20) NOT NULL DEFAULT \'\', "bin" VARCHAR(10),'
        ' "quantity" INTEGER NOT NULL DEFAULT 0,'
        ' CONSTRAINT "stock_item_warehouse_sku_key" UNIQUE ("warehouse", "sku"));\n'
        'CREATE INDEX "stock_item_sku_quantity" ON "stock_item" ("sku", "quantity");\n'
        'CREATE UNIQUE INDEX "stock_item_bin_slot" ON "stock_item" ("warehouse", "bin")'
    )


async def test_composite_unique_constraint_is_enforced(stock: Engine) -> None:
    with pytest.raises(UniqueViolation):
        await StockItem.insert(StockItem(warehouse=1, sku="apple"))
    # Each column alone may repeat.
    await StockItem.insert(StockItem(warehouse=2, sku="pear"), StockItem(warehouse=1, sku="fig"))
    assert await StockItem.count() == 5
    await PriceTier.insert(PriceTier(line="x", min_quantity=1), PriceTier(line="x", min_quantity=2))
    with pytest.raises(UniqueViolation):
        await PriceTier.insert(PriceTier(line="x", min_quantity=1))


async def test_unique_index_is_enforced_and_allows_nulls(stock: Engine) -> None:
    with pytest.raises(UniqueViolation):
        await StockItem.insert(StockItem(warehouse=1, sku="plum", bin="A1"))
    # NULLs are distinct in a unique index, on both databases.
    await StockItem.insert(StockItem(warehouse=1, sku="plum"), StockItem(warehouse=1, sku="kiwi"))
    assert await StockItem.count().where(StockItem.bin.is_null()) == 4


async def test_indexes_exist_in_the_database(stock: Engine) -> None:
    assert await index_names(stock, "stock_item") == {
        "stock_item_sku_quantity",
        "stock_item_bin_slot",
    }
    assert await index_names(stock, "warehouse") == {"warehouse_city"}


def test_table_level_declarations_must_name_columns() -> None:
    with pytest.raises(TypeError, match="'colour'"):

        class Broken(Table[dict[str, Any]], indexes=(Index("name", "colour"),)):
            name = Text()

    with pytest.raises(TypeError, match="'nme'"):

        class AlsoBroken(Table[dict[str, Any]], unique=(("nme",),)):
            name = Text()

    with pytest.raises(ValueError, match="at least one column"):
        Index()


# -- alter: each step ------------------------------------------------------------


async def test_add_column(pets: Engine) -> None:
    await Pet.alter().add_column("weight", Integer(default=7))
    assert await rows(pets, 'SELECT name, weight FROM "alter_pet" ORDER BY id') == [
        ("rex", 7),
        ("tom", 7),
    ]
    info = await columns(pets, "alter_pet")
    assert info["weight"]["null"] is False
    # UNIQUE (a table rebuild on SQLite) and a foreign key.
    await (
        Pet.alter()
        .add_column("tag", Varchar(length=5, unique=True, null=True))
        .add_column("vet", ForeignKey(lambda: Owner, null=True, index=True))
    )
    await insert(pets, "alter_pet", name="amy", tag="t1", vet=1)
    with pytest.raises(UniqueViolation):
        await insert(pets, "alter_pet", name="bo", tag="t1")
    with pytest.raises(ForeignKeyViolation):
        await insert(pets, "alter_pet", name="cy", vet=99)
    assert "alter_pet_vet" in await index_names(pets, "alter_pet")
    assert await rows(pets, 'SELECT name, weight, tag FROM "alter_pet" ORDER BY id') == [
        ("rex", 7, None),
        ("tom", 7, None),
        ("amy", 7, "t1"),
    ]


async def test_drop_column(pets: Engine) -> None:
    # age is indexed: SQLite rebuilds the table; PostgreSQL drops the index.
    await Pet.alter().drop_column(Pet.age)
    assert list(await columns(pets, "alter_pet")) == ["id", "name", "owner"]
    assert await index_names(pets, "alter_pet") == set()
    await Pet.alter().add_column("note", Text(null=True)).drop_column("note")
    assert await rows(pets, 'SELECT name, owner FROM "alter_pet" ORDER BY id') == [
        ("rex", 1),
        ("tom", 2),
    ]


async def test_rename_column_and_table(pets: Engine) -> None:
    await Pet.alter().rename_column(Pet.age, "years").rename_table("alter_pet_renamed")
    assert await rows(pets, 'SELECT name, years FROM "alter_pet_renamed" ORDER BY id') == [
        ("rex", 3),
        ("tom", 5),
    ]
    assert await rows(pets, "SELECT count(*) FROM alter_pet_renamed WHERE years > 4") == [(1,)]


async def test_set_null(pets: Engine) -> None:
    await Pet.alter().set_null(Pet.name)
    assert (await columns(pets, "alter_pet"))["name"]["null"] is True
    await insert(pets, "alter_pet", name=None)
    with pytest.raises(NotNullViolation):
        await Pet.alter().set_null(Pet.name, False)  # a NULL name exists
    await pets.execute('DELETE FROM "alter_pet" WHERE name IS NULL')
    await Pet.alter().set_null(Pet.name, False)
    with pytest.raises(NotNullViolation):
        await insert(pets, "alter_pet", name=None)
    assert await Pet.count() == 2


async def test_set_unique(pets: Engine) -> None:
    await Pet.alter().set_unique(Pet.name)
    with pytest.raises(UniqueViolation):
        await insert(pets, "alter_pet", name="rex")
    await Pet.alter().set_unique(Pet.name, False)
    await insert(pets, "alter_pet", name="rex")
    assert await Pet.count().where(Pet.name == "rex") == 2


async def test_set_unique_off_on_a_referenced_table_keeps_the_referencing_rows(
    pets: Engine,
) -> None:
    # On SQLite this rebuilds alter_owner, which alter_pet references with
    # ON DELETE CASCADE: dropping the old table must not delete the pets.
    await Owner.alter().set_unique(Owner.name, False)
    await insert(pets, "alter_owner", name="ann")
    assert await Owner.count() == 3
    assert await Pet.count() == 2
    with pytest.raises(ForeignKeyViolation):
        await insert(pets, "alter_pet", name="x", owner=99)
    await Owner.delete().where(Owner.id == 1)
    assert await Pet.select(Pet.name).output(as_list=True) == ["tom"]


async def test_rename_then_rebuild_a_referenced_table(pets: Engine) -> None:
    await Owner.alter().rename_table("alter_owner_renamed").set_length(Owner.name, 50)
    assert (await columns(pets, "alter_owner_renamed"))["name"]["type"] == "VARCHAR(50)"
    assert await Pet.count() == 2
    with pytest.raises(ForeignKeyViolation):
        await insert(pets, "alter_pet", name="x", owner=99)
    await pets.execute('DELETE FROM "alter_owner_renamed" WHERE id = 1')
    assert await Pet.select(Pet.name).output(as_list=True) == ["tom"]


async def test_set_default(pets: Engine) -> None:
    await Pet.alter().set_default(Pet.age, 42)
    await insert(pets, "alter_pet", name="amy")
    assert await Pet.select(Pet.age).where(Pet.name == "amy").output(as_list=True) == [42]
    await Pet.alter().set_default(Pet.name, "anon").set_default(Pet.age, None)
    info = await columns(pets, "alter_pet")
    assert info["age"]["default"] is None
    assert "anon" in info["name"]["default"]
    await Pet.alter().drop_default("name")
    assert (await columns(pets, "alter_pet"))["name"]["default"] is None
    with pytest.raises(NotNullViolation):  # NOT NULL, and no default any more
        await pets.execute('INSERT INTO "alter_pet" (age) VALUES (1)')


async def test_set_length(pets: Engine) -> None:
    long_name = "x" * 30
    if isinstance(pets, PostgresEngine):
        with pytest.raises(DataError):
            await insert(pets, "alter_pet", name=long_name)
    await Pet.alter().set_length(Pet.name, 40)
    assert (await columns(pets, "alter_pet"))["name"]["type"] == "VARCHAR(40)"
    await insert(pets, "alter_pet", name=long_name)
    assert await Pet.count() == 3


async def test_drop_table(pets: Engine) -> None:
    await Pet.alter().drop_table()
    assert await columns(pets, "alter_pet") == {}
    await Pet.alter().drop_table(if_exists=True)
    await Pet.create_table()
    if isinstance(pets, SQLiteEngine):
        with pytest.raises(AlterError, match="CASCADE"):
            await Owner.alter().drop_table(cascade=True)
    else:
        # CASCADE drops the referencing foreign key, not the referencing table.
        await Owner.alter().drop_table(cascade=True)
        assert await columns(pets, "alter_owner") == {}
        await insert(pets, "alter_pet", name="x", owner=99)


# -- alter: several steps, transactions, rebuild details ----------------------------


async def test_rebuild_keeps_rows_indexes_and_constraints(stock: Engine) -> None:
    await (
        StockItem.alter()
        .set_default(StockItem.quantity, 1)
        .set_length(StockItem.sku, 30)
        .set_null(StockItem.quantity)
    )
    assert await index_names(stock, "stock_item") == {
        "stock_item_sku_quantity",
        "stock_item_bin_slot",
    }
    with pytest.raises(UniqueViolation):
        await StockItem.insert(StockItem(warehouse=1, sku="apple"))
    with pytest.raises(UniqueViolation):
        await StockItem.insert(StockItem(warehouse=1, sku="plum", bin="A1"))
    with pytest.raises(ForeignKeyViolation):
        await StockItem.insert(StockItem(warehouse=7, sku="plum"))
    # The referenced table, with a rebuild on SQLite: its rows and the
    # rows referencing it survive.
    await Warehouse.alter().set_length(Warehouse.city, 80)
    assert await StockItem.count() == 3
    assert await index_names(stock, "warehouse") == {"warehouse_city"}
    with pytest.raises(UniqueViolation):
        await Warehouse.insert(Warehouse(code="N"))
    info = await columns(stock, "stock_item")
    assert info["sku"]["type"] == "VARCHAR(30)"
    assert info["quantity"]["default"] == "1"


async def test_alter_runs_in_the_enclosing_transaction(pets: Engine) -> None:
    with pytest.raises(RuntimeError, match="undo"):
        async with pets.transaction():
            await Pet.alter().add_column("weight", Integer()).set_default(Pet.age, 9)
            assert "weight" in await columns(pets, "alter_pet")
            raise RuntimeError("undo")
    info = await columns(pets, "alter_pet")
    assert "weight" not in info
    assert info["age"]["default"] == "0"


async def test_rebuild_of_a_referenced_table_in_a_transaction(pets: Engine) -> None:
    async with pets.transaction():
        if isinstance(pets, SQLiteEngine):
            with pytest.raises(AlterError, match="outside engine.transaction"):
                await Owner.alter().set_length(Owner.name, 50)
        else:
            await Owner.alter().set_length(Owner.name, 50)
    # A table nothing references is rebuilt inside the transaction.
    async with pets.transaction():
        await Pet.alter().set_length(Pet.name, 50)
    assert (await columns(pets, "alter_pet"))["name"]["type"] == "VARCHAR(50)"
    assert await Pet.count() == 2


def test_alter_is_immutable_and_prints_its_sql(tmp_path: Path) -> None:
    base = Pet.alter()
    renamed = base.rename_column(Pet.age, "years")
    assert str(base) == ""
    assert str(renamed) == 'ALTER TABLE "alter_pet" RENAME COLUMN "age" TO "years"'
    chain = (
        renamed.set_null(Pet.name)
        .set_default(Pet.age, 3)
        .set_length(Pet.name, 40)
        .set_unique(Pet.name)
        .rename_table("alter_pet_renamed")
        .add_column("weight", Integer(index=True))
        .drop_table(cascade=True)
    )
    assert str(chain).split(";\n") == [
        'ALTER TABLE "alter_pet" RENAME COLUMN "age" TO "years"',
        'ALTER TABLE "alter_pet" ALTER COLUMN "name" DROP NOT NULL',
        'ALTER TABLE "alter_pet" ALTER COLUMN "age" SET DEFAULT 3',
        'ALTER TABLE "alter_pet" ALTER COLUMN "name" TYPE VARCHAR(40)',
        'ALTER TABLE "alter_pet" ADD CONSTRAINT "alter_pet_name_key" UNIQUE ("name")',
        'ALTER TABLE "alter_pet" RENAME TO "alter_pet_renamed"',
        'ALTER TABLE "alter_pet_renamed" ADD COLUMN "weight" INTEGER NOT NULL DEFAULT 0',
        'CREATE INDEX "alter_pet_renamed_weight" ON "alter_pet_renamed" ("weight")',
        'DROP TABLE "alter_pet_renamed" CASCADE',
    ]
    # On SQLite, the plan for the table as its class declares it.
    use_engine(SQLiteEngine(tmp_path / "plan.sqlite"), Pet)
    try:
        assert str(Pet.alter().rename_column(Pet.age, "years").set_default(Pet.name, "x")).split(
            ";\n"
        ) == [
            'ALTER TABLE "alter_pet" RENAME COLUMN "age" TO "years"',
            'CREATE TABLE "alter_pet__piccolo_gen_new" ("id" INTEGER PRIMARY KEY,'
            ' "name" VARCHAR(20) NOT NULL DEFAULT \'x\', "owner" INTEGER REFERENCES'
            ' "alter_owner" ("id") ON DELETE CASCADE ON UPDATE CASCADE,'
            ' "years" INTEGER NOT NULL DEFAULT 0)',
            'INSERT INTO "alter_pet__piccolo_gen_new" ("id", "name", "owner", "years")'
            ' SELECT "id", "name", "owner", "years" FROM "alter_pet"',
            'DROP TABLE "alter_pet"',
            'ALTER TABLE "alter_pet__piccolo_gen_new" RENAME TO "alter_pet"',
            'CREATE INDEX "alter_pet_age" ON "alter_pet" ("years")',
        ]
    finally:
        use_engine(None, Pet)


def test_alter_refuses_bad_arguments_before_running() -> None:
    with pytest.raises(ValueError, match="invalid column name"):
        Pet.alter().add_column("bad name", Integer())
    with pytest.raises(ValueError, match="invalid table name"):
        Pet.alter().rename_table('x"; DROP TABLE y')
    with pytest.raises(ValueError, match="not a column of Pet"):
        Pet.alter().drop_column(Owner.name)
    with pytest.raises(TypeError, match="varchar"):
        Pet.alter().set_length(Pet.age, 10)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expects int"):
        Pet.alter().set_default(Pet.age, "x")
    with pytest.raises(AlterError, match="primary key"):
        Pet.alter().add_column("key", Integer(primary_key=True))


def test_alter_run_sync(engine: Engine) -> None:
    use_engine(engine, Owner, Pet)
    try:
        for name in PET_NAMES:
            Pet.raw(f'DROP TABLE IF EXISTS "{name}"').run_sync()
        Pet.raw('DROP TABLE IF EXISTS "alter_owner"').run_sync()
        create_tables(Owner, Pet).run_sync()
        assert Pet.alter().add_column("weight", Integer(default=2)).run_sync() is None
        Pet.insert(Pet(name="rex")).run_sync()
        assert Pet.raw('SELECT weight FROM "alter_pet"').run_sync() == [{"weight": 2}]
    finally:
        drop_tables(Owner, Pet, if_exists=True).run_sync()
        use_engine(None, Owner, Pet)


class Gauge(Table[dict[str, Any]], tablename="alter_gauge"):
    level = Integer(default=0)
    host = Text(null=True)


async def test_alter_keeps_what_the_state_cannot_hold_or_refuses(engine: Engine) -> None:
    # A table made by hand: alter() reads it as it is. A check constraint
    # stays where the table is altered in place; a column type no schema
    # type writes refuses the alter, naming it, and changes nothing.
    use_engine(engine, Gauge)
    await engine.execute('DROP TABLE IF EXISTS "alter_gauge"')
    try:
        await engine.execute(
            'CREATE TABLE "alter_gauge" ("id" INTEGER PRIMARY KEY,'
            ' "level" INTEGER NOT NULL DEFAULT 0 CHECK ("level" < 100), "host" INET)'
        )
        with pytest.raises(AlterError, match=r"alter_gauge\.host has the type '(inet|INET)'"):
            await Gauge.alter().set_default(Gauge.level, 7)
        assert (await columns(engine, "alter_gauge"))["level"]["default"] in ("0", 0)
        with pytest.raises(AlterError, match="use SQL"):
            await Gauge.alter().drop_column(Gauge.host)
        await engine.execute('ALTER TABLE "alter_gauge" DROP COLUMN "host"')
        await Gauge.alter().add_column("note", Text(null=True))
        if engine.dialect.name == "postgres":
            await Gauge.alter().set_default(Gauge.level, 7)
            await engine.execute('INSERT INTO "alter_gauge" ("id") VALUES (1)')
            assert await rows(engine, 'SELECT "level" FROM "alter_gauge"') == [(7,)]
            with pytest.raises(Exception, match="check"):
                await engine.execute('INSERT INTO "alter_gauge" ("id", "level") VALUES (2, 100)')
        else:
            # A rebuild would drop the unnamed CHECK constraint (a state holds
            # named ones only): refused.
            with pytest.raises(AlterError, match="would lose .*unnamed CHECK"):
                await Gauge.alter().set_default(Gauge.level, 7)
    finally:
        await engine.execute('DROP TABLE IF EXISTS "alter_gauge"')
