"""SQLite table rebuilds (``alter()`` steps SQLite's ALTER TABLE cannot do) keep
the table's triggers, the views over it and the foreign keys into it.

Each rebuild step runs twice: on a table another table references (the
rebuild runs with foreign keys off, on a connection of its own) and on one
nothing references (in the engine's transaction). The triggers fire BEFORE and
AFTER, on INSERT and UPDATE, read the columns through ``NEW`` and ``OLD``, and
a trigger of another table writes to the rebuilt one; one view reads the
table, another joins it with a second table. A step that would break a view
or a trigger fails with ``AlterError`` and leaves schema and rows as they were.

SQLite only: PostgreSQL alters natively, never rebuilding a table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from runtime import (
    Alter,
    AlterError,
    CheckViolation,
    ForeignKey,
    ForeignKeyViolation,
    Integer,
    SQLiteEngine,
    Table,
    Text,
    Varchar,
    create_tables,
    drop_tables,
    use_engine,
)


class Shop(Table[dict[str, Any]], tablename="rb_shop"):
    name = Varchar(length=20)


class Item(Table[dict[str, Any]], tablename="rb_item"):
    shop = ForeignKey(lambda: Shop, null=True)
    label = Varchar(length=20, index=True)
    price = Integer(default=0)
    note = Text(null=True)
    code = Varchar(length=10, null=True, unique=True)
    sku = Varchar(length=10, null=True, unique=True)


class Audit(Table[dict[str, Any]], tablename="rb_audit"):
    event = Text()
    detail = Text(null=True)


class ItemTag(Table[dict[str, Any]], tablename="rb_item_tag"):
    item = ForeignKey(lambda: Item)  # ON DELETE CASCADE
    tag = Text()


TRIGGERS = (
    "CREATE TRIGGER rb_item_before_insert BEFORE INSERT ON rb_item BEGIN"
    " INSERT INTO rb_audit (event, detail) VALUES ('before insert', NEW.label || '=' || NEW.price);"
    " END",
    "CREATE TRIGGER rb_item_after_insert AFTER INSERT ON rb_item BEGIN"
    " INSERT INTO rb_audit (event, detail) VALUES ('after insert', NEW.id || ':' || NEW.label);"
    " END",
    "CREATE TRIGGER rb_item_before_update BEFORE UPDATE OF price ON rb_item BEGIN"
    " INSERT INTO rb_audit (event, detail) VALUES ('before update', OLD.price || '>' || NEW.price);"
    " END",
    "CREATE TRIGGER rb_item_after_update AFTER UPDATE ON rb_item WHEN NEW.label <> OLD.label BEGIN"
    " INSERT INTO rb_audit (event, detail) VALUES ('after update', NEW.label);"
    " END",
    # Another table's trigger that writes to the rebuilt one.
    "CREATE TRIGGER rb_audit_touch AFTER INSERT ON rb_audit WHEN NEW.event = 'touch' BEGIN"
    " UPDATE rb_item SET note = NEW.detail WHERE label = 'pen';"
    " END",
    # Reads sku: dropping sku breaks it.
    "CREATE TRIGGER rb_item_sku AFTER UPDATE OF sku ON rb_item BEGIN"
    " INSERT INTO rb_audit (event, detail) VALUES ('sku', NEW.sku);"
    " END",
)
VIEWS = (
    "CREATE VIEW rb_item_view AS SELECT id, label, price FROM rb_item",
    "CREATE VIEW rb_item_shop AS SELECT i.label AS label, s.name AS shop"
    " FROM rb_item i JOIN rb_shop s ON s.id = i.shop",
)

#: Every step that rebuilds the table on SQLite (and touches no column that
#: a trigger or view uses in a way the step breaks).
REBUILDS: dict[str, Callable[[Alter], Alter]] = {
    "drop_column_unique": lambda a: a.drop_column(Item.code),
    "set_null": lambda a: a.set_null(Item.label),
    "set_not_null": lambda a: a.set_null(Item.shop, False),
    "set_unique": lambda a: a.set_unique(Item.label),
    "set_unique_off": lambda a: a.set_unique(Item.code, False),
    "set_default": lambda a: a.set_default(Item.price, 5),
    "drop_default": lambda a: a.drop_default(Item.price),
    "set_length": lambda a: a.set_length(Item.label, 50),
    "add_column_unique": lambda a: a.add_column(
        "serial", Varchar(length=5, unique=True, null=True)
    ),
    "add_column_references_with_default": lambda a: a.add_column(
        "home", ForeignKey(lambda: Shop, default=1)
    ),
    # Native steps around a rebuild: the triggers are read when it runs.
    "rename_then_rebuild": lambda a: a.rename_column(Item.note, "remark").set_length(
        Item.label, 40
    ),
}


async def schema(engine: SQLiteEngine) -> list[tuple[Any, ...]]:
    rows = await engine.fetch(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        " ORDER BY type, name"
    )
    return [tuple(row) for row in rows]


async def objects(engine: SQLiteEngine, kind: str) -> dict[str, str]:
    rows = await engine.fetch(
        "SELECT name, sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL", [kind]
    )
    return {row[0]: row[1] for row in rows}


async def table_rows(engine: SQLiteEngine, table: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await engine.fetch(f'SELECT * FROM "{table}" ORDER BY 1')]


async def audit(engine: SQLiteEngine) -> list[tuple[str, str]]:
    rows = await engine.fetch('SELECT event, detail FROM "rb_audit" ORDER BY id')
    await engine.execute('DELETE FROM "rb_audit"')
    return [(row[0], row[1]) for row in rows]


@pytest.fixture(params=["referenced", "unreferenced"])
async def shop(request: pytest.FixtureRequest, sqlite_engine: SQLiteEngine) -> AsyncIterator[bool]:
    """The tables, triggers and views with two shops and two items (``True``:
    ``rb_item_tag`` references ``rb_item``)."""
    referenced = request.param == "referenced"
    tables: tuple[type[Table[Any]], ...] = (Shop, Item, Audit) + ((ItemTag,) if referenced else ())
    use_engine(sqlite_engine, *tables)
    await create_tables(*tables)
    async with sqlite_engine.transaction():  # one commit: quicker
        for sql in (*TRIGGERS, *VIEWS):
            await sqlite_engine.execute(sql)
        north, south = await Shop.insert(Shop(name="north"), Shop(name="south"))
        pen, ink = await Item.insert(
            Item(shop=north, label="pen", price=2, code="P", sku="p1"),
            Item(shop=south, label="ink", price=7, code="I", note="blue"),
        )
        if referenced:
            await ItemTag.insert(ItemTag(item=pen, tag="office"), ItemTag(item=ink, tag="office"))
    await audit(sqlite_engine)
    try:
        yield referenced
    finally:
        await drop_tables(*tables, if_exists=True)
        use_engine(None, *tables)


async def check_all_still_work(engine: SQLiteEngine, referenced: bool) -> None:
    """The triggers fire, the views read, the foreign keys hold."""
    assert sorted(await objects(engine, "trigger")) == sorted(sql.split()[2] for sql in TRIGGERS)
    await engine.execute('INSERT INTO "rb_item" ("shop", "label", "price") VALUES (1, \'cap\', 3)')
    assert await audit(engine) == [("before insert", "cap=3"), ("after insert", "3:cap")]
    await engine.execute('UPDATE "rb_item" SET "price" = 4 WHERE "label" = \'cap\'')
    assert await audit(engine) == [("before update", "3>4")]
    await engine.execute('UPDATE "rb_item" SET "label" = \'hat\' WHERE "label" = \'cap\'')
    assert await audit(engine) == [("after update", "hat")]
    await engine.execute("INSERT INTO rb_audit (event, detail) VALUES ('touch', 'red')")
    notes = await engine.fetch("SELECT * FROM rb_item WHERE label = 'pen'")
    assert "red" in tuple(notes[0])
    await audit(engine)
    assert [tuple(r) for r in await engine.fetch("SELECT * FROM rb_item_view ORDER BY id")] == [
        (1, "pen", 2),
        (2, "ink", 7),
        (3, "hat", 4),
    ]
    assert [tuple(r) for r in await engine.fetch("SELECT * FROM rb_item_shop ORDER BY 1")] == [
        ("hat", "north"),
        ("ink", "south"),
        ("pen", "north"),
    ]
    # The foreign key out of the table, and (referenced) those into it.
    with pytest.raises(ForeignKeyViolation, match="FOREIGN KEY constraint failed"):
        await engine.execute(
            'INSERT INTO "rb_item" ("shop", "label", "price") VALUES (99, \'x\', 1)'
        )
    if referenced:
        assert await ItemTag.count() == 2
        with pytest.raises(ForeignKeyViolation, match="FOREIGN KEY constraint failed"):
            await engine.execute('INSERT INTO "rb_item_tag" ("item", "tag") VALUES (99, \'x\')')
        await engine.execute('DELETE FROM "rb_item" WHERE "label" = \'ink\'')
        assert await ItemTag.select(ItemTag.item).output(as_list=True) == [1]


@pytest.mark.parametrize("step", REBUILDS)
async def test_rebuild_keeps_triggers_views_and_indexes(
    sqlite_engine: SQLiteEngine, shop: bool, step: str
) -> None:
    triggers = await objects(sqlite_engine, "trigger")
    views = await objects(sqlite_engine, "view")
    indexes = await objects(sqlite_engine, "index")
    rows = await table_rows(sqlite_engine, "rb_item")
    alter = REBUILDS[step](Item.alter())
    assert any("__piccolo_gen_new" in sql for sql in str(alter).split(";\n"))  # a rebuild
    await alter
    if step == "rename_then_rebuild":
        # SQLite's RENAME COLUMN rewrote the trigger; the rebuild kept that.
        assert "remark" in (await objects(sqlite_engine, "trigger"))["rb_audit_touch"]
        await sqlite_engine.execute('ALTER TABLE "rb_item" RENAME COLUMN "remark" TO "note"')
        # (SQLite quotes the names it rewrites.)
        touch = triggers["rb_audit_touch"]
        triggers["rb_audit_touch"] = touch.replace("SET note", 'SET "note"')
    assert await objects(sqlite_engine, "trigger") == triggers
    assert await objects(sqlite_engine, "view") == views
    expected = {k: v for k, v in indexes.items() if step != "drop_column_unique" or "code" not in v}
    assert await objects(sqlite_engine, "index") == expected
    after = await table_rows(sqlite_engine, "rb_item")
    if step == "drop_column_unique":
        rows = [row[:5] + row[6:] for row in rows]
    if step.startswith("add_column"):
        after = [row[:-1] for row in after]
    assert after == rows
    await check_all_still_work(sqlite_engine, shop)


#: Steps that would break a view or a trigger, and what the error names.
BREAKING: dict[str, tuple[Callable[[Alter], Alter], str]] = {
    # label is indexed, so the drop is a rebuild; both views read label.
    "drop_column_used_by_views": (lambda a: a.drop_column(Item.label), "view 'rb_item_view'"),
    # sku is unique (a rebuild); a trigger fires on UPDATE OF sku.
    "drop_column_a_trigger_fires_on": (
        lambda a: a.drop_column(Item.sku),
        "trigger 'rb_item_sku' \\(UPDATE OF sku\\)",
    ),
    # A trigger's body reads NEW.label (and the views read label).
    "drop_column_used_in_a_trigger_body": (
        lambda a: a.drop_column(Item.label),
        "the INSERT triggers on 'rb_item'",
    ),
    # note is in no index: SQLite drops it natively, and its own check
    # misses the other table's trigger that sets note.
    "native_drop_column_set_by_a_trigger": (
        lambda a: a.drop_column(Item.note),
        "the INSERT triggers on 'rb_audit' \\('rb_audit_touch'\\)",
    ),
    # A rebuild first (price), then the drop: one transaction for both.
    "rebuild_then_break": (
        lambda a: a.set_default(Item.price, 1).drop_column(Item.label),
        "view 'rb_item_shop'",
    ),
}


@pytest.mark.parametrize("step", BREAKING)
async def test_rebuild_that_breaks_a_view_or_trigger_changes_nothing(
    sqlite_engine: SQLiteEngine, shop: bool, step: str
) -> None:
    before = await schema(sqlite_engine)
    rows = {t: await table_rows(sqlite_engine, t) for t in ("rb_item", "rb_shop")}
    make, named = BREAKING[step]
    with pytest.raises(AlterError, match=f"would break .*{named}.*no such column") as error:
        await make(Item.alter())
    assert "nothing was changed" in str(error.value)
    assert await schema(sqlite_engine) == before
    assert {t: await table_rows(sqlite_engine, t) for t in rows} == rows
    assert await sqlite_engine.fetch("PRAGMA legacy_alter_table") == [(0,)]
    await check_all_still_work(sqlite_engine, shop)


async def test_a_native_drop_sqlite_refuses_changes_nothing(
    sqlite_engine: SQLiteEngine, shop: bool
) -> None:
    # price is in no index: a native DROP COLUMN, which SQLite itself
    # refuses since triggers and views read price.
    before = await schema(sqlite_engine)
    alter = Item.alter().drop_column(Item.price)
    assert str(alter) == 'ALTER TABLE "rb_item" DROP COLUMN "price"'
    with pytest.raises(
        Exception, match=r"error in (view|trigger) \w+.*: no such column: (NEW\.)?price"
    ):
        await alter
    assert await schema(sqlite_engine) == before
    await check_all_still_work(sqlite_engine, shop)


async def test_a_failed_rebuild_inside_a_transaction_undoes_only_itself(
    sqlite_engine: SQLiteEngine,
) -> None:
    use_engine(sqlite_engine, Shop, Item, Audit)
    try:
        await create_tables(Shop, Item, Audit)
        for sql in VIEWS:
            await sqlite_engine.execute(sql)
        before = await schema(sqlite_engine)
        async with sqlite_engine.transaction():
            await Shop.insert(Shop(name="kept"))
            with pytest.raises(AlterError, match="rb_item_view"):
                await Item.alter().set_length(Item.label, 30).drop_column(Item.label)
            await Item.alter().set_length(Item.label, 30)
        assert await Shop.select(Shop.name).output(as_list=True) == ["kept"]
        after = dict(((t, n), s) for t, n, _, s in await schema(sqlite_engine))
        assert "VARCHAR(30)" in after[("table", "rb_item")]
        assert {k: v for k, v in after.items() if k[0] == "view"} == {
            (t, n): s for t, n, _, s in before if t == "view"
        }
    finally:
        await drop_tables(Shop, Item, Audit, if_exists=True)
        use_engine(None, Shop, Item, Audit)


async def test_a_view_broken_before_the_alter_does_not_stop_it(
    sqlite_engine: SQLiteEngine,
) -> None:
    use_engine(sqlite_engine, Shop, Item, Audit)
    try:
        await create_tables(Shop, Item, Audit)
        # SQLite accepts a view over a missing column; the alter did not break it.
        await sqlite_engine.execute("CREATE VIEW rb_broken AS SELECT missing_column FROM rb_item")
        await Item.alter().set_length(Item.label, 30)
        assert "rb_broken" in await objects(sqlite_engine, "view")
    finally:
        await sqlite_engine.execute("DROP VIEW IF EXISTS rb_broken")
        await drop_tables(Shop, Item, Audit, if_exists=True)
        use_engine(None, Shop, Item, Audit)


class Gadget(Table[dict[str, Any]], tablename="rb_gadget"):
    name = Varchar(length=20)
    qty = Integer(default=0)
    made = Text(null=True)


#: rb_gadget as made by hand, with what no schema state holds: indexes that
#: are partial, descending or over an expression, and an expression default.
GADGET = (
    'CREATE TABLE "rb_gadget" ("id" INTEGER PRIMARY KEY, "name" VARCHAR(20) NOT NULL,'
    " \"qty\" INTEGER NOT NULL DEFAULT 0, \"made\" TEXT DEFAULT (datetime('now', 'utc')))",
    'CREATE INDEX "rb_gadget_partial" ON "rb_gadget" ("qty") WHERE "qty" > 10',
    'CREATE INDEX "rb_gadget_desc" ON "rb_gadget" ("name" DESC)',
    'CREATE INDEX "rb_gadget_lower" ON "rb_gadget" (lower("name"))',
    'CREATE INDEX "rb_gadget_two" ON "rb_gadget" ("name", "qty")',
)


async def test_rebuild_keeps_indexes_no_state_holds_and_expression_defaults(
    sqlite_engine: SQLiteEngine,
) -> None:
    for sql in GADGET:
        await sqlite_engine.execute(sql)
    await sqlite_engine.execute('INSERT INTO "rb_gadget" ("name", "qty") VALUES (\'a\', 12)')
    indexes = await objects(sqlite_engine, "index")
    assert len(indexes) == 4
    alter = Gadget.alter().set_default(Gadget.qty, 3)
    await alter.run(engine=sqlite_engine)
    # Recreated from their own SQL, not flattened to plain indexes.
    assert await objects(sqlite_engine, "index") == indexes
    created = (await objects(sqlite_engine, "table"))["rb_gadget"]
    assert "DEFAULT (datetime('now', 'utc'))" in created
    assert '"qty" INTEGER NOT NULL DEFAULT 3' in created
    await sqlite_engine.execute('INSERT INTO "rb_gadget" ("name") VALUES (\'b\')')
    rows = await sqlite_engine.fetch('SELECT "name", "qty", "made" IS NOT NULL FROM "rb_gadget"')
    assert [tuple(r) for r in rows] == [("a", 12, 1), ("b", 3, 1)]


BEYOND_A_REBUILD = {
    "unnamed_check": (
        '"qty" INTEGER NOT NULL DEFAULT 0 CHECK ("qty" >= 0)',
        'unnamed CHECK \\("qty" >= 0\\)',
    ),
    "generated": (
        '"qty" INTEGER NOT NULL DEFAULT 0, "twice" INTEGER GENERATED ALWAYS AS ("qty" * 2)',
        "column 'twice' is generated",
    ),
}


@pytest.mark.parametrize("case", BEYOND_A_REBUILD)
async def test_a_rebuild_that_would_lose_what_the_table_has_is_refused(
    sqlite_engine: SQLiteEngine, case: str
) -> None:
    columns, named = BEYOND_A_REBUILD[case]
    await sqlite_engine.execute(
        'CREATE TABLE "rb_pair" ("a" VARCHAR(20), "b" INTEGER, PRIMARY KEY ("a", "b"))'
    )
    await sqlite_engine.execute(
        f'CREATE TABLE "rb_gadget" ("id" INTEGER PRIMARY KEY, "name" VARCHAR(20) NOT NULL,'
        f' "made" TEXT, {columns})'
    )
    before = await schema(sqlite_engine)
    with pytest.raises(AlterError, match=f"SQLite rebuilds table 'rb_gadget'.*{named}"):
        await Gadget.alter().set_default(Gadget.qty, 3).run(engine=sqlite_engine)
    assert await schema(sqlite_engine) == before
    # A step SQLite makes natively keeps it all, and runs.
    await Gadget.alter().rename_column(Gadget.made, "built").run(engine=sqlite_engine)
    created = (await objects(sqlite_engine, "table"))["rb_gadget"]
    assert '"built" TEXT' in created


async def test_alter_refuses_a_column_type_no_state_holds(sqlite_engine: SQLiteEngine) -> None:
    await sqlite_engine.execute(
        'CREATE TABLE "rb_gadget" ("id" INTEGER PRIMARY KEY, "name" VARCHAR(20) NOT NULL,'
        ' "qty" INTEGER NOT NULL DEFAULT 0, "made" DATETIME)'
    )
    before = await schema(sqlite_engine)
    with pytest.raises(AlterError, match="rb_gadget.made has the type 'DATETIME'.*use SQL"):
        await Gadget.alter().set_default(Gadget.qty, 3).run(engine=sqlite_engine)
    assert await schema(sqlite_engine) == before
    with pytest.raises(AlterError, match="sqlite has no table 'rb_gadget'"):
        await Gadget.alter().drop_table().run(engine=sqlite_engine)
        await Gadget.alter().set_default(Gadget.qty, 3).run(engine=sqlite_engine)


async def test_a_rebuild_keeps_named_checks(sqlite_engine: SQLiteEngine) -> None:
    # A named check is part of the table's state: the rebuild writes it back,
    # and SQLite still enforces it after.
    await sqlite_engine.execute(
        'CREATE TABLE "rb_gadget" ("id" INTEGER PRIMARY KEY, "name" VARCHAR(20) NOT NULL,'
        ' "made" TEXT, "qty" INTEGER NOT NULL DEFAULT 0,'
        ' CONSTRAINT "rb_gadget_qty_positive" CHECK ("qty" >= 0))'
    )
    await sqlite_engine.execute('INSERT INTO "rb_gadget" ("name", "qty") VALUES (\'a\', 2)')
    await Gadget.alter().set_default(Gadget.qty, 3).run(engine=sqlite_engine)
    created = (await objects(sqlite_engine, "table"))["rb_gadget"]
    assert 'CONSTRAINT "rb_gadget_qty_positive" CHECK ("qty" >= 0)' in created
    assert '"qty" INTEGER NOT NULL DEFAULT 3' in created
    with pytest.raises(CheckViolation, match="rb_gadget_qty_positive"):
        await sqlite_engine.execute('INSERT INTO "rb_gadget" ("name", "qty") VALUES (\'b\', -1)')
    rows = await sqlite_engine.fetch('SELECT "name", "qty" FROM "rb_gadget"')
    assert [tuple(r) for r in rows] == [("a", 2)]
