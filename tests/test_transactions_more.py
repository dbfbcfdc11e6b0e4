"""Transactions with ORM queries, on SQLite and PostgreSQL.

``test_engines.py`` tests the transaction machinery with raw SQL; these
tests check that the ORM's queries join it: ``engine.transaction()``,
``engine.atomic()``, named savepoints, ``transaction_exists()`` and SQLite's
``transaction_type``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator

import pytest

from generated.music import Band, Manager
from runtime import Engine, SQLiteEngine, UniqueViolation, create_tables, drop_tables, use_engine
from runtime._engine import TransactionError


@pytest.fixture
async def db(engine: Engine) -> AsyncIterator[Engine]:
    """Empty Manager and Band tables on ``engine``."""
    use_engine(engine, Manager, Band)
    await drop_tables(Manager, Band, if_exists=True)
    await create_tables(Manager, Band)
    try:
        yield engine
    finally:
        await drop_tables(Manager, Band, if_exists=True)
        use_engine(None, Manager, Band)


async def band_names() -> list[str]:
    return await Band.select(Band.name).order_by(Band.name).output(as_list=True)


async def test_orm_queries_join_the_transaction(db: Engine) -> None:
    async with db.transaction():
        (guido,) = await Manager.insert(Manager(name="Guido"))
        band = Band(name="Pythonistas", manager=guido)
        await band.save()
        band.popularity = 5
        await band.save()
        await Band.update(popularity=Band.popularity + 1).where(Band.name == "Pythonistas")
        assert await Band.select(Band.popularity).output(as_list=True) == [6]
    assert await band_names() == ["Pythonistas"]
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await Band.delete(force=True)
            await Manager.objects().get_or_create(Manager.name == "Mads")
            assert await Band.count() == 0
            raise RuntimeError("roll back")
    assert await band_names() == ["Pythonistas"]
    assert await Manager.select(Manager.name).output(as_list=True) == ["Guido"]


async def test_a_failing_orm_query_rolls_back_the_whole_transaction(db: Engine) -> None:
    await Band.insert(Band(name="A"))
    with pytest.raises(UniqueViolation):
        async with db.transaction():
            await Band.insert(Band(name="B"))
            await Band.insert(Band(name="A"))  # name is unique
    assert await band_names() == ["A"]


async def test_atomic_with_orm_queries(db: Engine) -> None:
    atomic = db.atomic()
    atomic.add(
        Manager.insert(Manager(name="Guido")),
        Band.insert(Band(name="Pythonistas", manager=1, popularity=1)),
        Band.update(popularity=10).where(Band.name == "Pythonistas"),
        Band.count(),
        Band.select(Band.popularity).output(as_list=True),
    )
    results = await atomic.run()
    assert results[3:] == [1, [10]]
    assert await band_names() == ["Pythonistas"]

    failing = db.atomic()
    failing.add(Band.insert(Band(name="Rustaceans")), Band.insert(Band(name="Pythonistas")))
    with pytest.raises(UniqueViolation):
        await failing
    assert await band_names() == ["Pythonistas"]
    # run_sync() from a running loop works as well (it runs on another thread).
    again = db.atomic()
    again.add(Band.insert(Band(name="Rustaceans")))
    assert len(again.run_sync()) == 1
    assert await band_names() == ["Pythonistas", "Rustaceans"]


async def test_named_savepoints_with_orm_queries(db: Engine) -> None:
    async with db.transaction() as transaction:
        await Manager.insert(Manager(name="Guido"))
        savepoint = await transaction.savepoint("before_bands")
        assert savepoint.name == "before_bands"
        await Band.insert(Band(name="Doomed"), Band(name="Also doomed"))
        assert await Band.count() == 2
        await savepoint.rollback_to()
        assert await Band.count() == 0
        await Band.insert(Band(name="Kept"))
        await savepoint.rollback_to()  # usable again until released
        await Band.insert(Band(name="Kept"))
        await savepoint.release()
        with pytest.raises(TransactionError, match="already released"):
            await savepoint.rollback_to()
        with pytest.raises(ValueError, match="invalid savepoint name"):
            await transaction.savepoint("1; DROP TABLE band")
    assert await band_names() == ["Kept"]
    assert await Manager.count() == 1


async def test_nested_transaction_with_orm_queries(db: Engine) -> None:
    async with db.transaction():
        await Band.insert(Band(name="Outer"))
        with pytest.raises(UniqueViolation):
            async with db.transaction():
                await Band.insert(Band(name="Inner"))
                await Band.insert(Band(name="Outer"))
        assert await band_names() == ["Outer"]
        async with db.transaction():
            await Band.insert(Band(name="Inner"))
    assert await band_names() == ["Inner", "Outer"]


async def test_transaction_exists(db: Engine) -> None:
    assert db.transaction_exists() is False
    async with db.transaction() as transaction:
        assert db.transaction_exists() is True
        async with db.transaction():
            assert db.transaction_exists() is True
        await Band.insert(Band(name="A"))
        await transaction.commit()
        assert db.transaction_exists() is False
        with pytest.raises(TransactionError, match="refused"):
            await Band.count()
    assert db.transaction_exists() is False
    assert await band_names() == ["A"]


async def test_sqlite_transaction_types_with_orm_queries(sqlite_engine: SQLiteEngine) -> None:
    use_engine(sqlite_engine, Manager, Band)
    await create_tables(Manager, Band)
    other = sqlite3.connect(sqlite_engine.path, timeout=0, isolation_level=None)
    try:
        async with sqlite_engine.transaction(transaction_type="deferred"):
            other.execute("INSERT INTO manager (name) VALUES ('other')")  # no lock taken yet
            await Manager.insert(Manager(name="Guido"))
        async with sqlite_engine.transaction(transaction_type="immediate"):
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("INSERT INTO manager (name) VALUES ('blocked')")
            assert other.execute("SELECT count(*) FROM manager").fetchone() == (2,)
            await Manager.insert(Manager(name="Mads"))
        async with sqlite_engine.transaction(transaction_type="exclusive"):
            await Manager.count()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("SELECT count(*) FROM manager")
    finally:
        other.close()
        use_engine(None, Manager, Band)
    assert sorted(
        await Manager.select(Manager.name).output(as_list=True).run(engine=sqlite_engine)
    ) == [
        "Guido",
        "Mads",
        "other",
    ]
