"""Typing of DDL, indexes, read replicas and transactions (never run; see test_contract.py)."""

from __future__ import annotations

from typing import Any, assert_type

from generated.inventory import StockItem, StockItemRow, Warehouse, WarehouseJoin
from generated.music import Band, BandRow, Venue
from runtime import (
    Alter,
    CreateTable,
    Engine,
    Index,
    Integer,
    PostgresEngine,
    SQLiteEngine,
    Varchar,
    create_tables,
)
from runtime._engine import Atomic, PostgresTransaction, Savepoint, SQLiteTransaction


async def alter_steps() -> None:
    assert_type(Band.alter(), Alter)
    query = (
        Band.alter()
        .add_column("rating", Integer(default=0))
        .drop_column(Band.popularity)
        .drop_column("popularity")
        .rename_column(Band.name, "title")
        .rename_table("bands")
        .set_null(Band.name)
        .set_null("name", False)
        .set_unique(Band.name, boolean=False)
        .set_default(Band.popularity, 10)
        .drop_default(Band.popularity)
        .set_length(Band.name, 100)
    )
    assert_type(query, Alter)
    assert_type(Venue.alter().set_default(Venue.capacity, None), Alter)
    assert_type(Band.alter().drop_table(cascade=True, if_exists=True), Alter)
    assert_type(await query, None)
    assert_type(await query.run(), None)
    assert_type(query.run_sync(), None)
    assert_type(str(query), str)


async def tables_and_indexes() -> None:
    assert_type(StockItem.bin, Varchar[str | None])
    assert_type(StockItem.warehouse, WarehouseJoin)
    assert_type(StockItem.warehouse.code, Varchar[str])
    assert_type(await StockItem.select(), list[StockItemRow])
    assert_type(Index("sku", "quantity", unique=True, name="by_sku"), Index)
    assert_type(StockItem.create_table(if_not_exists=True), CreateTable)
    assert_type(await create_tables(Warehouse, StockItem), None)


async def replicas(engine: PostgresEngine, sqlite: SQLiteEngine, any_engine: Engine) -> None:
    main = PostgresEngine(config={"dsn": "..."}, extra_nodes={"read_1": PostgresEngine()})
    assert_type(main.extra_nodes, dict[str, PostgresEngine])
    assert_type(main.get_node("read_1"), PostgresEngine)
    assert_type(any_engine.get_node("read_1"), Engine)
    assert_type(await Band.select().run(node="read_1"), list[BandRow])
    assert_type(Band.select().run_sync(node="read_1"), list[BandRow])
    assert_type(await Band.objects().first().run(engine=engine, node="read_1"), Band | None)
    assert_type(await Band.count().run(node="read_1"), int)
    assert_type(await Band.raw("select 1").run(node="read_1"), list[dict[str, Any]])


async def transactions(engine: PostgresEngine, sqlite: SQLiteEngine) -> None:
    async with engine.transaction(isolation_level="serializable") as transaction:
        assert_type(transaction, PostgresTransaction)
        savepoint = await transaction.savepoint("before")
        assert_type(savepoint, Savepoint)
        assert_type(await savepoint.rollback_to(), None)
        assert_type(await savepoint.release(), None)
        assert_type(engine.transaction_exists(), bool)
    async with sqlite.transaction(transaction_type="immediate") as sqlite_transaction:
        assert_type(sqlite_transaction, SQLiteTransaction)
    atomic = sqlite.atomic()
    assert_type(atomic, Atomic)
    atomic.add(Band.insert(Band(name="x")), Band.count())
    assert_type(await atomic.run(), list[object])
    assert_type(await atomic, list[object])
    assert_type(atomic.run_sync(), list[object])


def negative(engine: PostgresEngine, sqlite: SQLiteEngine) -> None:
    Band.alter().set_default(Band.popularity, "x")  # type: ignore[misc]  # pyright: ignore[reportArgumentType]
    Band.alter().set_default(Band.popularity, None)  # type: ignore[misc]  # pyright: ignore[reportArgumentType]
    Band.alter().set_length(Band.popularity, 10)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.alter().set_length(Band.name, "10")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.alter().add_column("rating", 1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.alter().rename_table()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Band.alter().drop_table(cascade="yes")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Band.alter().set_nul(Band.name)  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    Band.select().run_sync(node=1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    PostgresEngine(extra_nodes={"read_1": sqlite})  # type: ignore[dict-item]  # pyright: ignore[reportArgumentType]
    sqlite.transaction(transaction_type="eventual")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    engine.transaction(isolation_level="dirty")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Index("sku", unique="yes")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
